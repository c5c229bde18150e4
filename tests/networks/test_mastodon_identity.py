"""A Mastodon account has one external id, its actor URI (issue 12, item 2): linking records it
beside allauth's uid, the data migration merges the old duplicate rows, and every privacy path
(opt-out of the person, opt-out by proof of control, unlinking) reaches the one row."""

from __future__ import annotations

import importlib
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from allauth.socialaccount.models import SocialAccount
from django.apps import apps
from django.test import Client
from django.urls import reverse

from accounts import services as account_services
from accounts.crypto import encrypt_token
from accounts.models import ProviderCredential
from networks import sync
from networks.models import Interaction, NetworkAccount
from networks.providers.mastodon import instance_of
from tests.factories.networks import NetworkAccountFactory
from tests.factories.scoring import score_history

pytestmark = pytest.mark.django_db

MASTO = "https://social.example"
ACTOR = "https://social.example/users/alice"
LOGIN_UID = "109@social.example"


def link_mastodon(client: Client, verify: dict[str, object]) -> None:
    responses.post(f"{MASTO}/api/v1/apps", json={"client_id": "cid", "client_secret": "cs"})
    responses.post(f"{MASTO}/oauth/token", json={"access_token": "masto-token"})
    responses.get(f"{MASTO}/api/v1/accounts/verify_credentials", json=verify)
    response = client.post(
        reverse("mastodon_login"), {"instance": "social.example", "process": "connect"}
    )
    state = parse_qs(urlparse(response["Location"]).query)["state"][0]
    done = client.get(reverse("mastodon_callback"), {"code": "c0de", "state": state})
    assert done.status_code == 302


@pytest.mark.parametrize(
    ("verify", "actor"),
    [
        ({"id": "109", "username": "alice"}, ACTOR),
        (
            {"id": "109", "username": "alice", "uri": "https://ap.social.example/users/alice"},
            "https://ap.social.example/users/alice",
        ),
    ],
    ids=["older-server", "server-sends-uri"],
)
@responses.activate
def test_linking_records_the_actor_uri_beside_allauths_uid(
    alice, alice_client: Client, verify: dict[str, object], actor: str
) -> None:
    link_mastodon(alice_client, verify)

    link = SocialAccount.objects.get(user=alice)
    assert link.uid == LOGIN_UID
    assert link.extra_data["actor_uri"] == actor
    account = NetworkAccount.objects.get(network="mastodon")
    assert (account.external_id, account.login_uid, account.user_id) == (actor, LOGIN_UID, alice.pk)


@responses.activate
def test_others_data_and_linking_meet_on_one_row_and_its_tokens_are_found(
    alice, alice_client: Client
) -> None:
    known = NetworkAccountFactory.create(network="mastodon", external_id=ACTOR)
    mentioner = NetworkAccountFactory.create(network="mastodon")
    Interaction.objects.create(
        network="mastodon",
        actor=mentioner,
        receiver=known,
        kind="mention",
        occurred_at="2026-11-01T10:00:00Z",
        source_key="m1",
    )

    link_mastodon(alice_client, {"id": "109", "username": "alice"})

    assert NetworkAccount.objects.filter(network="mastodon", user=alice).get().pk == known.pk
    assert NetworkAccount.objects.filter(network="mastodon").count() == 2
    credential = sync._credential_for(NetworkAccount.objects.get(pk=known.pk))
    assert credential is not None
    assert credential.access_token == "masto-token"


def scored_actor(**fields: object) -> NetworkAccount:
    account = NetworkAccountFactory.create(
        network="mastodon", external_id=ACTOR, handle="alice@social.example", **fields
    )
    score_history(account=account, days=2)
    return account


@responses.activate
def test_opting_out_the_person_hides_the_actor_profile(alice, alice_client: Client) -> None:
    scored_actor()
    assert Client().get("/u/mastodon/alice@social.example").status_code == 200
    link_mastodon(alice_client, {"id": "109", "username": "alice"})

    account_services.opt_out_person(user_id=alice.pk)

    assert Client().get("/u/mastodon/alice@social.example").status_code == 404
    assert NetworkAccount.objects.get(external_id=ACTOR).opted_out


def test_opting_out_by_proof_of_control_hides_the_actor_profile() -> None:
    """The proof-of-control flow knows allauth's uid and the actor URI beside it."""
    account = scored_actor()
    mentioner = NetworkAccountFactory.create(network="mastodon")
    Interaction.objects.create(
        network="mastodon",
        actor=mentioner,
        receiver=account,
        kind="mention",
        occurred_at="2026-11-01T10:00:00Z",
        source_key="m1",
    )

    account_services.opt_out_network_account(
        provider="mastodon", uid=LOGIN_UID, handle="alice@social.example", external_id=ACTOR
    )

    assert Client().get("/u/mastodon/alice@social.example").status_code == 404
    assert NetworkAccount.objects.filter(network="mastodon", opted_out=True).get().pk == account.pk
    assert not Interaction.objects.exists()


@responses.activate
def test_unlinking_releases_the_actor_row(alice, alice_client: Client) -> None:
    alice.set_password("pw-for-alice-123")  # so unlinking does not remove the last way in
    alice.save()
    alice_client.force_login(alice)
    link_mastodon(alice_client, {"id": "109", "username": "alice"})
    link = SocialAccount.objects.get(user=alice)

    account_services.unlink_social_account(user_id=alice.pk, social_account_id=link.pk)

    assert NetworkAccount.objects.get(external_id=ACTOR).user_id is None


def test_the_data_migration_merges_a_linked_row_with_its_actor_row(alice) -> None:
    migration = importlib.import_module("networks.migrations.0010_mastodon_actor_ids")
    linked = NetworkAccountFactory.create(
        network="mastodon", external_id=LOGIN_UID, handle="alice@social.example", user=alice
    )
    ProviderCredential.objects.create(
        user=alice,
        provider="mastodon",
        uid=LOGIN_UID,
        access_token_enc=encrypt_token("tok"),
        refresh_token_enc=encrypt_token(""),
    )
    actor_row = NetworkAccountFactory.create(network="mastodon", external_id=ACTOR)
    score_history(account=actor_row, days=2)
    bob = NetworkAccountFactory.create(network="mastodon")
    for n, (who, whom) in enumerate([(bob, actor_row), (actor_row, bob), (bob, linked)]):
        Interaction.objects.create(
            network="mastodon",
            actor=who,
            receiver=whom,
            kind="mention",
            occurred_at="2026-11-01T10:00:00Z",
            source_key=f"k{n}",
        )
    lone = NetworkAccountFactory.create(
        network="mastodon", external_id="5@else.example", handle="carol@else.example"
    )

    migration.merge_mastodon_ids(apps, None)

    merged = NetworkAccount.objects.get(pk=linked.pk)
    assert (merged.external_id, merged.login_uid, merged.user_id) == (ACTOR, LOGIN_UID, alice.pk)
    assert not NetworkAccount.objects.filter(pk=actor_row.pk).exists()
    assert Interaction.objects.filter(receiver=merged).count() == 2
    assert Interaction.objects.filter(actor=merged).count() == 1
    assert NetworkAccount.objects.get(pk=lone.pk).external_id == "https://else.example/users/carol"
    assert sync._credential_for(merged) is not None


def test_the_data_migration_keeps_a_merged_account_hidden_when_either_row_was(alice) -> None:
    migration = importlib.import_module("networks.migrations.0010_mastodon_actor_ids")
    linked = NetworkAccountFactory.create(
        network="mastodon", external_id=LOGIN_UID, handle="alice@social.example", user=alice
    )
    actor_row = NetworkAccountFactory.create(network="mastodon", external_id=ACTOR, opted_out=True)
    bob = NetworkAccountFactory.create(network="mastodon")
    Interaction.objects.create(
        network="mastodon",
        actor=bob,
        receiver=linked,
        kind="mention",
        occurred_at="2026-11-01T10:00:00Z",
        source_key="k",
    )
    assert actor_row.opted_out

    migration.merge_mastodon_ids(apps, None)

    merged = NetworkAccount.objects.get(pk=linked.pk)
    assert merged.opted_out
    assert not Interaction.objects.exists()


def test_sync_calls_the_server_it_was_linked_on_even_when_the_actor_lives_elsewhere() -> None:
    account = NetworkAccount(
        network="mastodon",
        external_id="https://ap.social.example/users/alice",
        login_uid=LOGIN_UID,
    )
    assert instance_of(account) == "social.example"
    assert instance_of(NetworkAccount(network="mastodon", external_id=ACTOR)) == "social.example"
