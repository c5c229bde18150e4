"""Interaction indexes: few (each costs every ingested row), and the read paths use them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection

from networks.models import Interaction
from networks.records import InteractionRecord
from networks.services import ingest_batch, purge_account

pytestmark = pytest.mark.django_db(transaction=False)
START = dt.datetime(2012, 7, 1, tzinfo=dt.UTC)


def _plan(sql: str, params: list[Any]) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan TO OFF")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
def test_time_window_reads_touch_only_their_month_partitions_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("partitions are PostgreSQL's; SQLite keeps one table and a btree on time")
    ingest_batch(
        network="dev",
        interactions=[
            InteractionRecord("a", "b", "share", START + dt.timedelta(days=d), f"k{d}")
            for d in range(0, 62, 2)  # July and August 2012
        ],
    )
    table = Interaction._meta.db_table

    plan = _plan(
        f"SELECT actor_id FROM {table} WHERE occurred_at >= %s AND occurred_at < %s",
        [START, START + dt.timedelta(days=1)],
    )

    assert f"{table}_p201207" in plan
    assert f"{table}_p201208" not in plan
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [f"{table}_p201207"])
        definitions = [row[0] for row in cursor.fetchall()]
    assert any("USING brin (occurred_at)" in d for d in definitions)


@pytest.mark.postgres
def test_interactions_of_one_account_are_found_by_index_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("plan shapes are PostgreSQL's")
    ingest_batch(network="dev", interactions=[InteractionRecord("a", "b", "share", START, "k")])
    table = Interaction._meta.db_table

    by_actor = _plan(f"SELECT id FROM {table} WHERE actor_id = %s", [1])
    by_receiver = _plan(f"SELECT id FROM {table} WHERE receiver_id = %s", [1])

    # Each partition carries its own copy of the parent's index (named after the partition).
    assert f"{table}_p201207_actor_id_idx" in by_actor
    assert f"{table}_p201207_receiver_id_idx" in by_receiver
    assert "Seq Scan" not in by_actor + by_receiver


def test_purging_an_account_removes_its_interactions_in_both_directions():
    ingest_batch(
        network="dev",
        interactions=[
            InteractionRecord("a", "b", "share", START, "ab"),
            InteractionRecord("b", "c", "share", START, "bc"),
            InteractionRecord("c", "d", "share", START, "cd"),
        ],
    )
    b = Interaction.objects.get(source_key="ab").receiver_id

    purge_account(account_id=b)

    assert list(Interaction.objects.values_list("source_key", flat=True)) == ["cd"]
