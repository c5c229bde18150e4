"""Handles a URL cannot carry (issue 12, item 3): every page that lists such an account answers,
links fall back to the account's id, and ingest stores no such handle."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from networks.models import NetworkAccount
from networks.records import AccountRecord
from networks.services import claim_account, ingest_batch
from tests.factories.networks import NetworkAccountFactory
from tests.factories.scoring import score_history

pytestmark = pytest.mark.django_db

BAD_HANDLES = ["a/b", "../admin", "x?y", "tab\there", ".."]


@pytest.mark.parametrize("handle", BAD_HANDLES)
def test_leaderboard_and_search_link_an_unusual_handle_by_id(client: Client, handle: str) -> None:
    account = NetworkAccountFactory.create(handle=handle)
    score_history(account=account, days=2, score=70.0)
    by_id = reverse("profile_by_id", kwargs={"network": "dev", "account_id": account.pk})

    board = client.get(reverse("leaderboard"))
    found = client.get(reverse("search"), {"q": handle[:2]})

    assert board.status_code == 200
    assert f'href="{by_id}"' in board.content.decode()
    assert found.status_code == 200
    assert client.get(by_id).status_code == 200


def test_an_influencer_list_naming_a_slash_handle_links_it_by_id(client: Client) -> None:
    odd = NetworkAccountFactory.create(handle="ac/dc")
    account = NetworkAccountFactory.create(handle="erin")
    entry = {"account_id": odd.pk, "network": "dev", "handle": "ac/dc", "weight": 2}
    score_history(account=account, days=3, influencers=[entry], influencees=[entry])

    response = client.get("/u/dev/erin")

    assert response.status_code == 200
    assert f'href="/u/dev/id/{odd.pk}"' in response.content.decode()


def test_the_profile_by_id_hides_hidden_accounts(client: Client) -> None:
    account = NetworkAccountFactory.create(handle="a/b", opted_out=True)
    score_history(account=account, days=2)
    url = reverse("profile_by_id", kwargs={"network": "dev", "account_id": account.pk})
    assert client.get(url).status_code == 404


def test_the_linked_accounts_page_lists_a_claimed_slash_handle(alice, alice_client) -> None:
    account = NetworkAccountFactory.create(handle="me/too", user=alice)

    response = alice_client.get(reverse("linked_accounts"))

    assert response.status_code == 200
    assert f'href="/u/dev/id/{account.pk}"' in response.content.decode()


@pytest.mark.parametrize("handle", BAD_HANDLES)
def test_ingest_stores_no_handle_a_url_cannot_carry(handle: str) -> None:
    ingest_batch(
        network="dev",
        accounts=[AccountRecord("42", handle=handle), AccountRecord("43", handle=" bob ")],
    )
    stored = dict(NetworkAccount.objects.values_list("external_id", "handle"))
    assert stored == {"42": "", "43": "bob"}


def test_linking_stores_no_handle_a_url_cannot_carry(alice) -> None:
    account = claim_account(user_id=alice.pk, provider="dev", uid="7", handle="x/y")
    assert account is not None
    assert account.handle == ""
