"""Insert many rows, skipping those a unique constraint already holds, and say how many went in.

PostgreSQL: rows are COPYed into a temporary table and moved with one
``INSERT … SELECT … ON CONFLICT DO NOTHING``, so a million rows take seconds and a concurrent or
repeated run inserts nothing twice. Other databases: ``INSERT … ON CONFLICT DO NOTHING`` per batch.
A few rows (a notification or two) go in one plain multi-row INSERT on every database: a temporary
table costs catalog writes, whose invalidations every other backend then has to process.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models, transaction

BATCH = 5_000
COPY_CHUNK = 50_000
FEW = 50  # at most this many rows: one INSERT statement, no temporary table


def insert_ignoring_conflicts(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    existing: tuple[str, type[models.Model]] | None = None,
) -> int:
    """Insert `rows` (tuples in `columns` order, table column names); return the rows added.

    Values are plain scalars (numbers, text, dates, None): JSON columns are not supported.
    `existing=(column, Model)` keeps only rows whose `column` is the primary key of a `Model` row
    (for a key the database does not constrain): one set-based check, not one per row.
    """
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    parents = "SELECT 1"
    key = 0
    if existing is not None:
        key = list(columns).index(existing[0])
        parent = existing[1]
        parents = (
            f"SELECT {connection.ops.quote_name(str(parent._meta.pk.column))} "
            f"FROM {connection.ops.quote_name(parent._meta.db_table)}"
        )
    if existing is None or connection.vendor == "postgresql":
        iterator = iter(rows)
        head = list(itertools.islice(iterator, FEW + 1))
        if len(head) <= FEW:
            check = f"{names.split(', ')[key]} IN ({parents})" if existing else ""
            return _insert_few(model, table, names, columns, head, check)
        rows = itertools.chain(head, iterator)
    if connection.vendor == "postgresql":
        check = f"{names.split(', ')[key]} IN ({parents})" if existing else "1 = 1"
        return _copy_then_insert(table, names, columns, rows, check)
    marks = ", ".join(["%s"] * len(columns))
    sql = (
        f"INSERT INTO {table} ({names}) SELECT {marks} WHERE %s IN ({parents}) "
        "ON CONFLICT DO NOTHING"
        if existing is not None
        else f"INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT DO NOTHING"
    )
    added = 0
    iterator = iter(rows)
    with transaction.atomic(), connection.cursor() as cursor:
        while batch := [
            tuple(_plain(v) for v in row) + ((row[key],) if existing is not None else ())
            for row in itertools.islice(iterator, BATCH)
        ]:
            before = _changes(cursor)
            cursor.executemany(sql, batch)
            added += _changes(cursor) - before if before >= 0 else max(cursor.rowcount, 0)
    return added


def _changes(cursor: Any) -> int:
    # SQLite's total_changes counts rows actually inserted (executemany's rowcount may not).
    inner = getattr(cursor, "connection", None) or getattr(cursor.cursor, "connection", None)
    total = getattr(inner, "total_changes", None)
    return int(total) if total is not None else -1


def _plain(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict | list) else value


def _copy_then_insert(
    table: str, names: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], check: str
) -> int:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE _bulk_rows ON COMMIT DROP AS "
            f"SELECT {names} FROM {table} WITH NO DATA"
        )
        raw = cursor.cursor
        iterator = iter(rows)
        # Rows are taken a chunk at a time before each COPY: a generator of rows may itself query
        # this connection, which a COPY in progress would block.
        # What this inserts is idempotent (a re-run inserts the same rows, conflicts skipped), so
        # its commit need not wait for the disk: a crash loses at most rows the re-run redoes.
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        while chunk := list(itertools.islice(iterator, COPY_CHUNK)):
            with raw.copy(f"COPY _bulk_rows ({names}) FROM STDIN") as copy:
                for row in chunk:
                    copy.write_row(row)
        cursor.execute(
            # In first-column order (the person, for unlocks and notifications): index pages are
            # then visited in order rather than at random.
            f"INSERT INTO {table} ({names}) SELECT {names} FROM _bulk_rows WHERE {check} "
            "ORDER BY 1 ON CONFLICT DO NOTHING"
        )
        added = cursor.rowcount
        cursor.execute("DROP TABLE _bulk_rows")
    return int(added)


def _insert_few(
    model: type[models.Model],
    table: str,
    names: str,
    columns: Sequence[str],
    rows: list[Sequence[Any]],
    check: str,
) -> int:
    """One statement (atomic by itself, no transaction of its own) for a handful of rows.

    With a `check` (PostgreSQL only), the rows are a typed VALUES list filtered by it."""
    if not rows:
        return 0
    width = len(columns)
    # In first-column order, as the COPY path: concurrent inserts take index entries in one order.
    ordered = sorted(rows, key=lambda row: (row[0] is None, row[0]))
    params = [_plain(v) for row in ordered for v in row]
    if check:
        fields = {f.column: f for f in model._meta.concrete_fields}
        types = [fields[c].db_type(connection) for c in columns]
        one = "(" + ", ".join(f"%s::{t}" for t in types) + ")"
        sql = (
            f"INSERT INTO {table} ({names}) SELECT * FROM (VALUES {', '.join([one] * len(rows))}) "
            f"AS v ({names}) WHERE {check} ON CONFLICT DO NOTHING"
        )
    else:
        values = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(rows))
        sql = f"INSERT INTO {table} ({names}) VALUES {values} ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)
