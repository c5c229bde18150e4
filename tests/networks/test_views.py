"""The archive upload page and the sync-state fragment: owners only."""

from __future__ import annotations

import pytest
import responses
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.crypto import encrypt_token
from accounts.models import ProviderCredential
from networks.models import Interaction, SyncRun, SyncStatus
from networks.providers.reddit import API as REDDIT_API
from networks.providers.reddit import overview_url
from networks.services import linked_account_details
from tests.factories.networks import NetworkAccountFactory
from tests.networks.conftest import FIXTURES

pytestmark = pytest.mark.django_db


def tweets_upload(name: str = "tweets.js") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (FIXTURES / "tweets.js").read_bytes())


def test_import_page_needs_a_login(client):
    response = client.get(reverse("import_archive"))

    assert response.status_code == 302
    assert "login" in response["Location"]


def test_uploading_an_x_archive_imports_it_as_the_linked_account(
    alice, alice_client, django_capture_on_commit_callbacks
):
    NetworkAccountFactory.create(network="x", external_id="111", user=alice)

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            reverse("import_archive"), {"format": "x_archive", "file": tweets_upload()}
        )

    assert response.status_code == 302
    run = SyncRun.objects.get(user=alice)
    assert run.status == SyncStatus.SUCCEEDED
    assert run.inserted_count == 4
    assert Interaction.objects.filter(actor__external_id="111").count() == 4


def test_an_upload_of_the_wrong_type_is_refused(alice, alice_client):
    NetworkAccountFactory.create(network="x", external_id="111", user=alice)
    upload = SimpleUploadedFile("tweets.js", b"<html>not an archive</html>")

    response = alice_client.post(reverse("import_archive"), {"format": "x_archive", "file": upload})

    assert response.status_code == 200
    assert "does not look like tweets.js" in response.content.decode()
    assert not SyncRun.objects.exists()


def test_an_oversized_upload_is_refused(alice, alice_client, settings):
    settings.KLOUT_UPLOAD_MAX_BYTES = 100
    NetworkAccountFactory.create(network="x", external_id="111", user=alice)

    response = alice_client.post(
        reverse("import_archive"), {"format": "x_archive", "file": tweets_upload()}
    )

    assert "larger than" in response.content.decode()
    assert not SyncRun.objects.exists()


def test_an_archive_needs_a_linked_account_of_that_network(alice_client):
    response = alice_client.post(
        reverse("import_archive"), {"format": "x_archive", "file": tweets_upload()}
    )

    assert "Link that network" in response.content.decode()
    assert not SyncRun.objects.exists()


def test_another_user_cannot_see_someone_elses_import(alice, charlie_client):
    run = SyncRun.objects.create(source="x_archive:f", format="x_archive", user=alice)

    detail = charlie_client.get(reverse("import_run", args=[run.pk]))
    listing = charlie_client.get(reverse("import_archive"))

    assert detail.status_code == 404
    assert reverse("import_run", args=[run.pk]) not in listing.content.decode()


def test_htmx_polling_gets_only_the_runs_fragment(alice, alice_client):
    SyncRun.objects.create(source="x_archive:f", format="x_archive", user=alice)

    response = alice_client.get(reverse("import_archive"), headers={"HX-Request": "true"})

    body = response.content.decode()
    assert 'id="import-runs"' in body
    assert 'hx-trigger="every 1s"' in body
    assert "<html" not in body


@responses.activate
def test_sync_now_runs_a_sync_and_returns_the_fragment(
    alice, alice_client, django_capture_on_commit_callbacks
):
    account = NetworkAccountFactory.create(network="reddit", external_id="ar", user=alice)
    ProviderCredential.objects.create(
        user=alice, provider="reddit", uid="ar", access_token_enc=encrypt_token("t")
    )
    responses.get(REDDIT_API, json={"data": {"children": []}})
    responses.get(overview_url(account), json={"data": {"children": []}})  # no posts of hers

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            reverse("sync_state", args=[account.pk]), headers={"HX-Request": "true"}
        )

    assert response.status_code == 200
    assert f'id="sync-{account.pk}"' in response.content.decode()
    assert SyncRun.objects.get(account=account).status == SyncStatus.SUCCEEDED
    after = alice_client.get(reverse("sync_state", args=[account.pk]))
    assert "0 new posts of yours" in after.content.decode()


def test_another_user_cannot_see_or_start_someone_elses_sync(alice, charlie_client):
    account = NetworkAccountFactory.create(network="reddit", external_id="ar", user=alice)

    assert charlie_client.get(reverse("sync_state", args=[account.pk])).status_code == 404
    assert charlie_client.post(reverse("sync_state", args=[account.pk])).status_code == 404
    assert not SyncRun.objects.exists()


def test_linked_account_details_are_keyed_by_provider_and_uid(alice):
    account = NetworkAccountFactory.create(network="reddit", external_id="ar", user=alice)

    details = linked_account_details(user_id=alice.pk)

    assert details[("reddit", "ar")]["network_account_id"] == account.pk


def _import_page_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("import_archive")).status_code == 200
    return len(queries)


def test_the_import_runs_list_query_count_does_not_grow_with_the_runs(alice, alice_client):
    def runs(n: int) -> None:
        for i in range(n):
            SyncRun.objects.create(
                source=f"mastodon:outbox-{i}.json", format="mastodon", user=alice
            )

    runs(1)
    few = _import_page_queries(alice_client)
    runs(15)
    many = _import_page_queries(alice_client)

    assert few == many
