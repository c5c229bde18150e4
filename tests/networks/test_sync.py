"""sync_account: one at a time per account, incremental, and a revoked token stops retries."""

from __future__ import annotations

import threading

import pytest
import responses
from django.db import connection

from accounts.crypto import encrypt_token
from accounts.models import ProviderCredential
from networks import tasks
from networks.models import Interaction, NetworkAccount, SyncRun, SyncStatus
from networks.providers.reddit import API as REDDIT_API
from networks.providers.reddit import OAUTH as REDDIT_OAUTH
from networks.services import SyncBusy, start_account_sync, sync_account, syncable_accounts
from tests.factories.networks import NetworkAccountFactory

pytestmark = pytest.mark.django_db

INBOX = {
    "data": {
        "children": [
            {
                "kind": "t1",
                "data": {
                    "name": "t1_x",
                    "author": "bob",
                    "subject": "comment reply",
                    "created_utc": 1_800_000_000.0,
                },
            }
        ]
    }
}

# The account's own posts (the sync's second walk): none here.
NO_POSTS = {"kind": "Listing", "data": {"children": [], "after": None}}
OVERVIEW = f"{REDDIT_OAUTH}/user/alice_r/overview"


@pytest.fixture
def linked_reddit(alice) -> NetworkAccount:
    ProviderCredential.objects.create(
        user=alice,
        provider="reddit",
        uid="alice_r",
        access_token_enc=encrypt_token("secret"),
    )
    return NetworkAccountFactory.create(network="reddit", external_id="alice_r", user=alice)


@responses.activate
def test_sync_account_ingests_and_advances_the_cursor(linked_reddit):
    responses.get(REDDIT_API, json=INBOX)
    responses.get(OVERVIEW, json=NO_POSTS)

    run = sync_account(account_id=linked_reddit.pk)
    again = sync_account(account_id=linked_reddit.pk)

    linked_reddit.refresh_from_db()
    assert run.status == SyncStatus.SUCCEEDED
    assert (run.inserted_count, again.inserted_count) == (1, 0)
    assert linked_reddit.sync_cursor == "1800000000.0"
    assert linked_reddit.last_sync_counts["inserted"] == 0
    assert linked_reddit.sync_started_at is None
    assert Interaction.objects.filter(receiver=linked_reddit, kind="reply").count() == 1


@responses.activate
def test_revoked_token_marks_needs_reconnect_and_is_not_retried(linked_reddit):
    responses.get(REDDIT_API, status=401)
    responses.get(OVERVIEW, status=401)

    tasks.sync_account.delay(linked_reddit.pk)

    linked_reddit.refresh_from_db()
    assert linked_reddit.needs_reconnect
    assert len(responses.calls) == 1
    assert SyncRun.objects.get(account=linked_reddit).status == SyncStatus.FAILED
    assert linked_reddit.pk not in syncable_accounts()
    # and the stored credential says so too: the linked-accounts page offers a reconnect
    credential = ProviderCredential.objects.get(user=linked_reddit.user, provider="reddit")
    assert credential.needs_reconnect
    assert credential.last_error


def test_a_second_sync_of_the_same_account_is_refused_while_one_runs(linked_reddit):
    start_account_sync(account_id=linked_reddit.pk)

    with pytest.raises(SyncBusy):
        start_account_sync(account_id=linked_reddit.pk)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sync_starts_let_exactly_one_through(alice):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so there is no race to test")
    account = NetworkAccountFactory.create(network="reddit", external_id="r", user=alice)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def start() -> None:
        barrier.wait()
        try:
            start_account_sync(account_id=account.pk)
            outcomes.append("started")
        except SyncBusy:
            outcomes.append("busy")
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["busy", "busy", "busy", "started"]


def test_sync_all_linked_accounts_queues_only_claimed_visible_accounts(linked_reddit, bob):
    NetworkAccountFactory.create(network="reddit", external_id="public")
    NetworkAccountFactory.create(network="reddit", external_id="b", user=bob, opted_out=True)

    assert syncable_accounts() == [linked_reddit.pk]


@responses.activate
def test_an_unreadable_stored_position_restarts_the_sync_instead_of_failing_forever(linked_reddit):
    NetworkAccount.objects.filter(pk=linked_reddit.pk).update(sync_cursor='resume:{"since": 1')
    responses.get(REDDIT_API, json=INBOX)
    responses.get(OVERVIEW, json=NO_POSTS)

    run = sync_account(account_id=linked_reddit.pk)

    linked_reddit.refresh_from_db()
    assert run.status == SyncStatus.SUCCEEDED
    assert linked_reddit.sync_cursor == "1800000000.0"
    assert Interaction.objects.filter(receiver=linked_reddit).count() == 1
