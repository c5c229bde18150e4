"""Monthly partitions and bulk loads of new months (PostgreSQL), and the read-ahead thread."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from django.db import connection

from networks.models import Interaction, NetworkAccount
from networks.partitions import DEFAULT, TABLE, partition_name, partitions
from networks.prefetch import prefetch
from networks.records import InteractionRecord
from networks.services import ingest_batch, opt_out_network_account
from tests.factories.networks import InteractionFactory
from tests.networks.conftest import store_records

JULY = dt.datetime(2012, 7, 3, 12, tzinfo=dt.UTC)


def records(n: int, *, start: dt.datetime = JULY, prefix: str = "k") -> list[InteractionRecord]:
    return [
        InteractionRecord(
            f"a{i % 7}", f"r{i % 5}", "share", start + dt.timedelta(minutes=i), f"{prefix}{i}"
        )
        for i in range(n)
    ]


def existing_partitions() -> dict[dt.date, str]:
    with connection.cursor() as cursor:
        return partitions(cursor)


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_new_month_is_loaded_detached_and_appears_with_its_indexes_when_attached(session):
    result = store_records(session, records(30))

    assert result.interactions_inserted == 30
    assert Interaction.objects.count() == 0, "a loading month is invisible until attached"
    assert dt.date(2012, 7, 1) not in existing_partitions()

    dropped = session.attach()

    assert dropped == 0
    assert Interaction.objects.filter(network="dev").count() == 30
    name = existing_partitions()[dt.date(2012, 7, 1)]
    assert name == partition_name(dt.date(2012, 7, 1))
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [name])
        indexes = {row[0] for row in cursor.fetchall()}
    assert f"{name}_pkey" in indexes
    assert f"{name}_source_hash_occurred_at_idx" in indexes
    assert not any("_ld" in index for index in indexes)


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_key_repeated_across_batches_of_one_load_is_stored_once(session):
    store_records(session, records(20))
    store_records(session, records(20))  # the same keys again

    dropped = session.attach()

    assert dropped == 20
    assert Interaction.objects.filter(network="dev").count() == 20


@pytest.mark.postgres
@pytest.mark.django_db
def test_an_account_hidden_while_its_month_loads_is_purged_before_attaching(session):
    store_records(session, records(35))
    hidden = opt_out_network_account(provider="dev", uid="a0")
    assert hidden is not None

    dropped = session.attach()  # the rule says a0 is hidden now

    assert dropped == 5  # a0 acted in rows 0, 7, 14, 21, 28
    assert not Interaction.objects.filter(actor_id=hidden.pk).exists()
    assert Interaction.objects.filter(network="dev").count() == 30


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_month_filled_by_someone_else_meanwhile_is_merged_not_replaced(session):
    store_records(session, records(10))
    # A provider sync stores two rows of July: one the load also holds, one it does not.
    ingest_batch(network="dev", interactions=records(1) + records(1, prefix="sync"))

    dropped = session.attach()

    assert dropped == 1
    keys = set(Interaction.objects.filter(network="dev").values_list("source_key", flat=True))
    assert keys == {f"k{i}" for i in range(10)} | {"sync0"}


@pytest.mark.postgres
@pytest.mark.django_db
def test_rows_in_the_default_partition_move_into_their_month_when_it_is_created():
    august = dt.datetime(2012, 8, 9, tzinfo=dt.UTC)
    orm_row = InteractionFactory.create(occurred_at=august)  # the ORM, outside ingest_batch
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {DEFAULT}")
        assert cursor.fetchone()[0] == 1

    ingest_batch(network="dev", interactions=records(3, start=august))

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {DEFAULT}")
        assert cursor.fetchone()[0] == 0
        cursor.execute(f"SELECT count(*) FROM {partition_name(dt.date(2012, 8, 1))}")
        assert cursor.fetchone()[0] == 4
    assert Interaction.objects.filter(pk=orm_row.pk).exists()


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_re_import_of_a_held_month_inserts_nothing_and_keeps_one_row_per_key(session):
    ingest_batch(network="dev", interactions=records(12))
    again = store_records(session, records(12))

    assert again.interactions_inserted == 0
    assert session.load is not None
    assert session.load.tables == {}, "a month that holds rows is merged, not loaded"
    assert Interaction.objects.filter(network="dev").count() == 12
    assert NetworkAccount.objects.filter(network="dev").count() == 12  # 7 actors + 5 receivers
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {TABLE}")
        assert cursor.fetchone()[0] == 12


def test_prefetch_yields_everything_in_order_from_another_thread():
    seen_threads: set[str] = set()

    def produce() -> Iterator[int]:
        for i in range(25_003):
            if i % 10_000 == 0:
                seen_threads.add(threading.current_thread().name)
            yield i

    assert list(prefetch(produce(), chunk=1000, depth=2)) == list(range(25_003))
    assert seen_threads == {"import-prefetch"}


def test_prefetch_raises_the_producers_error_after_the_items_before_it():
    def produce() -> Iterator[int]:
        yield from range(5)
        raise OSError("disk gone")

    got: list[int] = []

    def consume() -> None:
        for item in prefetch(produce(), chunk=2, depth=1):
            got.append(item)

    with pytest.raises(OSError, match="disk gone"):
        consume()
    assert got == [0, 1, 2, 3, 4]


def test_prefetch_stops_its_thread_when_the_consumer_stops_early():
    def produce() -> Iterator[int]:
        yield from range(10_000_000)

    items = prefetch(produce(), chunk=100, depth=2)
    assert [next(items) for _ in range(10)] == list(range(10))
    items.close()

    assert not any(t.name == "import-prefetch" and t.is_alive() for t in threading.enumerate())


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("workers", [0, 3])
def test_index_builds_of_a_loaded_month_use_the_configured_parallel_workers(
    session, settings, workers
):
    settings.KLOUT_INDEX_BUILD_WORKERS = workers
    store_records(session, records(10))

    seen: list[str] = []  # the setting in force when each index build starts

    def observe(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("CREATE") and "INDEX" in sql.upper():
            raw = context["cursor"].cursor  # the driver's cursor: not seen by this wrapper
            raw.execute("SHOW max_parallel_maintenance_workers")
            seen.append(raw.fetchone()[0])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(observe):
        session.attach()

    assert len(seen) >= 5, seen
    assert seen == [str(workers)] * len(seen)


@pytest.mark.postgres
@pytest.mark.django_db
def test_account_and_interaction_ids_come_from_cached_sequences():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT cache_size FROM pg_sequences WHERE sequencename IN"
            " ('networks_interaction_id_seq', 'networks_networkaccount_id_seq')"
        )
        sizes = [row[0] for row in cursor.fetchall()]
    assert sizes == [1024, 1024]
