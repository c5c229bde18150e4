"""Uploads speak only for their uploader (issue 12, item 1): a forged outbox stores nothing about
other accounts, and no upload renames an account the uploader does not own."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from networks.models import Interaction, NetworkAccount, SyncRun
from tests.factories.networks import NetworkAccountFactory
from tests.networks.conftest import FIXTURES

pytestmark = pytest.mark.django_db

ALICE = "https://mastodon.example/users/alice"
MALLORY = "https://mastodon.example/users/mallory"


def outbox_upload(extra_items: list[dict[str, object]] = ()) -> SimpleUploadedFile:  # type: ignore[assignment]
    outbox = json.loads((FIXTURES / "outbox.json").read_text())
    outbox["orderedItems"] += list(extra_items)
    return SimpleUploadedFile("outbox.json", json.dumps(outbox).encode())


def forged_mention(actor: str, target: str, name: str = "") -> dict[str, object]:
    note = f"{actor}/statuses/999"
    return {
        "id": f"{note}/activity",
        "type": "Create",
        "actor": actor,
        "published": "2023-05-09T10:00:00Z",
        "object": {
            "id": note,
            "type": "Note",
            "content": "forged",
            "tag": [{"type": "Mention", "href": target, "name": name}],
        },
    }


def upload(client, django_capture_on_commit_callbacks, format: str, file) -> SyncRun:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("import_archive"), {"format": format, "file": file})
    assert response.status_code == 302
    return SyncRun.objects.get()


def test_a_mastodon_upload_stores_only_the_uploaders_own_activities(
    alice, alice_client, django_capture_on_commit_callbacks
):
    NetworkAccountFactory.create(network="mastodon", external_id=ALICE, user=alice)
    popular = "https://big.example/users/popular"
    forged = forged_mention(MALLORY, popular)

    run = upload(
        alice_client, django_capture_on_commit_callbacks, "mastodon", outbox_upload([forged])
    )

    assert not Interaction.objects.filter(actor__external_id=MALLORY).exists()
    assert not Interaction.objects.filter(receiver__external_id=popular).exists()
    assert set(Interaction.objects.values_list("actor__external_id", flat=True)) == {ALICE}
    assert run.rejected_count == 2  # the fixture's malformed item and the forged activity
    assert any("another account" in error for error in run.errors)


def test_someone_elses_outbox_uploaded_as_yours_stores_nothing(
    bob, django_capture_on_commit_callbacks
):
    bob_client = Client()
    bob_client.force_login(bob)
    NetworkAccountFactory.create(
        network="mastodon", external_id="https://mastodon.example/users/bob", user=bob
    )

    upload(bob_client, django_capture_on_commit_callbacks, "mastodon", outbox_upload())

    assert not Interaction.objects.exists()


def test_a_mastodon_upload_never_renames_an_account_the_uploader_does_not_own(
    alice, alice_client, django_capture_on_commit_callbacks
):
    NetworkAccountFactory.create(network="mastodon", external_id=ALICE, user=alice)
    victim = NetworkAccountFactory.create(
        network="mastodon",
        external_id="https://big.example/users/popular",
        handle="popular@big.example",
    )
    renaming = forged_mention(ALICE, victim.external_id, name="@alice-owns-this")

    upload(alice_client, django_capture_on_commit_callbacks, "mastodon", outbox_upload([renaming]))

    victim.refresh_from_db()
    assert victim.handle == "popular@big.example"
    # The mention itself, by the uploader, is kept.
    assert Interaction.objects.filter(actor__external_id=ALICE, receiver=victim).exists()


def test_an_x_archive_upload_never_renames_an_account_the_uploader_does_not_own(
    alice, alice_client, django_capture_on_commit_callbacks
):
    NetworkAccountFactory.create(network="x", external_id="111", user=alice)
    victim = NetworkAccountFactory.create(network="x", external_id="222", handle="popular")
    tweets = (FIXTURES / "tweets.js").read_bytes()

    upload(
        alice_client,
        django_capture_on_commit_callbacks,
        "x_archive",
        SimpleUploadedFile("tweets.js", tweets),
    )

    victim.refresh_from_db()
    assert victim.handle == "popular"
    assert NetworkAccount.objects.get(network="x", external_id="444").handle == ""
