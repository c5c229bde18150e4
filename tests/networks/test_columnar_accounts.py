"""Columnar blocks' new accounts (PostgreSQL): reserved ids, the helper connection, lost races.

A block's new accounts get ids from the sequence before they exist, so the interactions naming
them can be written at the same time (on the helper connection). These tests make the accounts'
COPY lose a race on purpose (an account created by "someone else" that the writer does not know
about) and check that every stored interaction still names the account that exists.
"""

from __future__ import annotations

import datetime as dt
import threading

import numpy as np
import pytest
from django.db import OperationalError

from networks import columnar
from networks.edges import EdgeBlock, Text
from networks.importers.higgs import BLOCK_KINDS
from networks.models import Interaction, NetworkAccount
from networks.records import InteractionRecord
from networks.services import ingest_batch
from networks.session import ImportSession
from networks.staging import prepare_batch

pytestmark = pytest.mark.postgres
JULY = int(dt.datetime(2012, 7, 2, tzinfo=dt.UTC).timestamp())


def block_of(rows: list[tuple[int, int, int]]) -> EdgeBlock:
    """(actor, receiver, seconds after JULY) rows as a Higgs block of retweets."""
    keys = [f"{a}>{b}@{JULY + s}:RT".encode() for a, b, s in rows]
    lengths = np.array([len(k) for k in keys], np.int64)
    return EdgeBlock(
        np.array([a for a, _, _ in rows], np.int64),
        np.array([b for _, b, _ in rows], np.int64),
        np.array([JULY + s for _, _, s in rows], np.int64),
        np.zeros(len(rows), np.uint8),
        BLOCK_KINDS,
        Text(np.frombuffer(b"".join(keys), np.uint8), np.cumsum(lengths) - lengths, lengths),
    )


def store(block: EdgeBlock, session: ImportSession) -> int:
    batch = prepare_batch("higgs", [], [], [], postgres=True, blocks=[block])
    return session.store(batch).accounts_created


def helper_session() -> ImportSession:
    """A session of a non-strict import with its helper connection (use it as a context)."""
    return ImportSession(run_id=987_655, network="higgs")


def stored_pairs() -> set[tuple[str, str]]:
    return set(
        Interaction.objects.filter(network="higgs").values_list(
            "actor__external_id", "receiver__external_id"
        )
    )


ROWS = [(1, 2, 0), (3, 2, 1), (4, 1, 2), (2, 5, 3)]
EXPECTED = {(str(a), str(b)) for a, b, _ in ROWS}


@pytest.fixture
def someone_elses_account() -> NetworkAccount:
    """Account 2 exists, but the import believes the network was empty when it started."""
    return NetworkAccount.objects.create(network="higgs", external_id="2")


@pytest.mark.django_db
def test_new_accounts_of_a_block_get_reserved_ids_and_every_row_names_them(open_session):
    session = open_session("higgs")
    created = store(block_of(ROWS), session)
    session.attach()

    assert created == 5
    assert stored_pairs() == EXPECTED
    # only id, network, external id and time are COPYed: the rest are the database's defaults
    fields = [
        *("handle", "display_name", "protected", "opted_out", "needs_reconnect"),
        *("sync_cursor", "last_sync_counts", "last_sync_error", "user_id"),
    ]
    made = list(NetworkAccount.objects.filter(network="higgs").values_list(*fields))
    assert made == [("", "", False, False, False, "", {}, "", None)] * 5
    ids = dict(NetworkAccount.objects.filter(network="higgs").values_list("external_id", "id"))
    assert len(ids) == 5
    assert session.names.numeric.get(np.array([1, 2, 3, 4, 5])).tolist() == [
        ids[str(n)] for n in (1, 2, 3, 4, 5)
    ]


@pytest.mark.django_db
def test_a_block_meeting_existing_accounts_looks_them_up_instead_of_reserving(open_session):
    existing = NetworkAccount.objects.create(network="higgs", external_id="2")
    session = open_session("higgs")

    created = store(block_of(ROWS), session)
    session.attach()

    assert created == 4
    assert stored_pairs() == EXPECTED
    assert NetworkAccount.objects.filter(network="higgs", external_id="2").get().pk == existing.pk


@pytest.mark.django_db
@pytest.mark.parametrize("month_held", [False, True], ids=["loaded-month", "held-month"])
def test_a_lost_race_for_an_account_gives_the_rows_the_winners_id(
    open_session, someone_elses_account, month_held
):
    session = open_session("higgs")
    if month_held:  # July holds a row: the block is merged into the partition, not loaded
        ingest_batch(
            network="dev",
            interactions=[
                InteractionRecord("x", "y", "share", dt.datetime.fromtimestamp(JULY, dt.UTC), "k")
            ],
        )
    session.names.network_was_empty = True  # so the writer reserves an id for account 2 too

    created = store(block_of(ROWS), session)
    session.attach()

    assert created == 4
    assert stored_pairs() == EXPECTED
    twos = NetworkAccount.objects.filter(network="higgs", external_id="2")
    assert list(twos.values_list("id", flat=True)) == [someone_elses_account.pk]
    named = Interaction.objects.filter(network="higgs", receiver__external_id="2")
    assert set(named.values_list("receiver_id", flat=True)) == {someone_elses_account.pk}
    assert session.names.numeric.get(np.array([2])).tolist() == [someone_elses_account.pk]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("race", [False, True], ids=["no-race", "lost-race"])
def test_the_helper_stores_the_accounts_and_the_attach_waits_for_them(race):
    existing = NetworkAccount.objects.create(network="higgs", external_id="2") if race else None
    with helper_session() as session:
        session.names.network_was_empty = True
        reserved = store(block_of(ROWS[:2]), session)
        reserved += store(block_of(ROWS[2:]), session)  # goes on without waiting
        assert session.new_accounts is not None
        assert len(session.new_accounts.pending) == 2
        created = session.settle()
        session.attach()

    assert reserved == 5  # 1, 2, 3 in the first batch, 4, 5 in the second
    assert created == (4 if race else 5)
    assert stored_pairs() == EXPECTED
    assert NetworkAccount.objects.filter(network="higgs").count() == 5
    if existing is not None:
        named = Interaction.objects.filter(network="higgs", receiver__external_id="2")
        assert set(named.values_list("receiver_id", flat=True)) == {existing.pk}
    assert not any(t.name.startswith("import-helper") for t in threading.enumerate())


@pytest.mark.django_db(transaction=True)
def test_accounts_the_helper_failed_to_store_are_stored_when_settling(monkeypatch):
    def broken(*args: object) -> None:
        raise OperationalError("the helper's connection went away")

    monkeypatch.setattr(columnar, "store_new_accounts_apart", broken)
    with helper_session() as session:
        store(block_of(ROWS), session)
        assert session.new_accounts is not None
        assert not NetworkAccount.objects.filter(network="higgs").exists()

        created = session.settle()
        session.attach()

    assert created == 5
    assert stored_pairs() == EXPECTED


@pytest.mark.django_db
def test_an_account_deleted_while_its_rows_load_takes_them_along_and_is_resolved_afresh(
    open_session,
):
    session = open_session("higgs")
    store(block_of(ROWS[:2]), session)  # (1, 2) and (3, 2): account 2 is known to the import now
    NetworkAccount.objects.filter(network="higgs", external_id="2").delete()

    store(block_of(ROWS[2:]), session)  # (4, 1) and (2, 5): the session resolves 2 afresh
    session.attach()

    # the first batch's rows named the deleted account: dropped at the attach
    assert stored_pairs() == {("4", "1"), ("2", "5")}
    account_ids = set(NetworkAccount.objects.values_list("id", flat=True))
    for actor, receiver in Interaction.objects.values_list("actor_id", "receiver_id"):
        assert {actor, receiver} <= account_ids


@pytest.mark.django_db
def test_rows_loaded_before_an_unnoticed_deletion_are_dropped_at_the_attach(open_session):
    session = open_session("higgs")
    store(block_of(ROWS), session)
    NetworkAccount.objects.filter(network="higgs", external_id="5").delete()

    dropped = session.attach()  # no batch looked in between

    assert dropped == 1
    assert stored_pairs() == EXPECTED - {("2", "5")}
