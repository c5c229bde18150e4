"""ingest_batch, the one write path: idempotent, and hidden accounts never get in."""

from __future__ import annotations

import datetime as dt

import pytest

from networks.models import (
    Interaction,
    Network,
    NetworkAccount,
    Post,
    SuppressedAccount,
    suppression_key,
)
from networks.records import AccountRecord, InteractionRecord, PostRecord
from networks.services import (
    claim_account,
    ingest_batch,
    mark_needs_reconnect,
    opt_out_accounts_of_user,
    purge_account,
    set_account_protected,
    unclaim_account,
)
from tests.factories.networks import InteractionFactory, NetworkAccountFactory

WHEN = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
pytestmark = pytest.mark.django_db(transaction=False)


def shares(*pairs: tuple[str, str]) -> list[InteractionRecord]:
    return [InteractionRecord(a, b, "share", WHEN, f"{a}>{b}") for a, b in pairs]


def test_ingest_batch_creates_accounts_and_interactions_once():
    first = ingest_batch(network="dev", interactions=shares(("a", "b"), ("c", "b")))
    second = ingest_batch(network="dev", interactions=shares(("a", "b"), ("c", "b")))

    assert (first.accounts_created, first.interactions_inserted) == (3, 2)
    assert (second.accounts_created, second.interactions_inserted) == (0, 0)
    assert second.interactions_skipped == 2
    assert Interaction.objects.filter(network="dev").count() == 2


def test_ingest_batch_links_interactions_to_posts_of_earlier_batches():
    ingest_batch(network="dev", posts=[PostRecord("p1", "b", WHEN, "hello", tags=("qubits",))])
    ingest_batch(
        network="dev", interactions=[InteractionRecord("a", "b", "reply", WHEN, "k1", post="p1")]
    )

    interaction = Interaction.objects.get(source_key="k1")
    assert interaction.post is not None
    assert interaction.post.tags == ["qubits"]
    assert interaction.occurred_at == WHEN


def test_ingest_batch_drops_interactions_of_protected_accounts():
    NetworkAccountFactory.create(network="dev", external_id="secret", protected=True)

    result = ingest_batch(network="dev", interactions=shares(("a", "secret"), ("secret", "b")))

    assert result.interactions_inserted == 0
    assert not Interaction.objects.exists()


def test_ingest_batch_drops_interactions_of_opted_out_people(alice):
    NetworkAccountFactory.create(network="dev", external_id="alice", user=alice)
    alice.opted_out = True
    alice.save()

    result = ingest_batch(network="dev", interactions=shares(("a", "alice"), ("c", "d")))

    assert result.interactions_inserted == 1
    assert not Interaction.objects.filter(receiver__external_id="alice").exists()


def test_an_account_reported_protected_loses_its_stored_interactions():
    ingest_batch(network="dev", interactions=shares(("a", "b"), ("b", "c"), ("c", "d")))

    ingest_batch(network="dev", accounts=[AccountRecord("b", handle="bee", protected=True)])

    account = NetworkAccount.objects.get(network="dev", external_id="b")
    assert account.protected
    assert account.handle == "bee"
    assert Interaction.objects.count() == 1


def test_purge_account_deletes_its_interactions_and_posts():
    account = NetworkAccountFactory.create()
    InteractionFactory.create(actor=account)
    InteractionFactory.create(receiver=account)
    kept = InteractionFactory.create()
    Post.objects.create(network="dev", account=account, external_id="p", posted_at=WHEN)

    purge_account(account_id=account.pk)

    assert list(Interaction.objects.all()) == [kept]
    assert not Post.objects.filter(account=account).exists()


def test_set_account_protected_purges_and_hides_the_account():
    account = NetworkAccountFactory.create()
    InteractionFactory.create(actor=account)

    set_account_protected(account_id=account.pk)

    assert not Interaction.objects.exists()
    assert not NetworkAccount.objects.visible().filter(pk=account.pk).exists()


def test_opting_out_flags_and_purges_every_claimed_account(alice):
    mine = NetworkAccountFactory.create(user=alice)
    InteractionFactory.create(receiver=mine)
    other = InteractionFactory.create()

    opt_out_accounts_of_user(user_id=alice.pk)

    mine.refresh_from_db()
    assert mine.opted_out
    assert list(Interaction.objects.all()) == [other]


def test_claim_account_attaches_an_existing_public_account(alice):
    public = NetworkAccountFactory.create(network="github", external_id="42", handle="")

    claimed = claim_account(user_id=alice.pk, provider="github", uid="42", handle="al")

    assert claimed is not None
    assert claimed.pk == public.pk
    assert (claimed.user_id, claimed.handle) == (alice.pk, "al")


def test_unclaim_account_keeps_the_public_account(alice):
    claim_account(user_id=alice.pk, provider="github", uid="42")

    unclaim_account(user_id=alice.pk, provider="github", uid="42")

    assert NetworkAccount.objects.get(network="github", external_id="42").user_id is None


def test_mark_needs_reconnect_flags_the_users_accounts_on_that_network(alice):
    claim_account(user_id=alice.pk, provider="github", uid="42")
    claim_account(user_id=alice.pk, provider="reddit", uid="r1")

    mark_needs_reconnect(user_id=alice.pk, provider="github")

    flagged = set(
        NetworkAccount.objects.filter(needs_reconnect=True).values_list("network", flat=True)
    )
    assert flagged == {"github"}


def test_a_suppressed_account_is_not_stored_until_someone_links_it_again(alice):
    SuppressedAccount.objects.create(network=Network.DEV, key=suppression_key(Network.DEV, "gone"))

    ingest_batch(network=Network.DEV, interactions=shares(("fan", "gone")))
    assert not NetworkAccount.objects.filter(external_id="gone").exists()
    assert not Interaction.objects.exists()

    claim_account(user_id=alice.pk, provider="devnet", uid="gone")
    ingest_batch(network=Network.DEV, interactions=shares(("fan", "gone")))

    assert not SuppressedAccount.objects.exists()
    assert Interaction.objects.filter(receiver__external_id="gone").count() == 1
