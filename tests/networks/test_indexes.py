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
def test_time_window_reads_use_the_brin_index_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("BRIN is PostgreSQL's; SQLite keeps a btree on occurred_at")
    ingest_batch(
        network="dev",
        interactions=[
            InteractionRecord("a", "b", "share", START + dt.timedelta(hours=h), f"k{h}")
            for h in range(48)
        ],
    )
    table = Interaction._meta.db_table

    plan = _plan(
        f"SELECT actor_id FROM {table} WHERE occurred_at >= %s AND occurred_at < %s",
        [START, START + dt.timedelta(days=1)],
    )

    assert "interaction_time_brin" in plan


@pytest.mark.postgres
def test_interactions_of_one_account_are_found_by_index_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("plan shapes are PostgreSQL's")
    table = Interaction._meta.db_table

    by_actor = _plan(f"SELECT id FROM {table} WHERE actor_id = %s", [1])
    by_receiver = _plan(f"SELECT id FROM {table} WHERE receiver_id = %s", [1])

    assert "interaction_actor_idx" in by_actor
    assert "interaction_receiver_idx" in by_receiver


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
