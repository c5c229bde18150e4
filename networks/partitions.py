"""Monthly partitions of the interaction table (PostgreSQL), and bulk loads of months not yet held.

Every index on the interaction table costs each inserted row a descent. A file import of a month
the store has never held is loaded into a bare table instead (no index at all), and attached as
that month's partition once the file is read: PostgreSQL then builds the indexes by sorting, three
to four times cheaper than maintaining them row by row. Months that already hold rows, and every
provider sync, take the ordinary merge (`INSERT ... ON CONFLICT DO NOTHING`) into their partition.

Until a loaded month is attached its rows are invisible to readers; a killed import leaves only a
detached table behind, which the next import drops (its run's advisory lock is free).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from networks.helper import Helper
from networks.models import Interaction, NetworkAccount

TABLE = Interaction._meta.db_table
ACCOUNTS = NetworkAccount._meta.db_table
LOAD_PREFIX = f"{TABLE}_ld"
DEFAULT = f"{TABLE}_default"
COLUMNS = "id, network, kind, occurred_at, source_key, actor_id, post_id, receiver_id"
# advisory lock namespaces (two-int form): per month while creating or attaching a partition,
# per import run while it owns load tables
_MONTH_LOCK = 0x4B4C_0001
_RUN_LOCK = 0x4B4C_0002


def month_of(value: dt.datetime) -> dt.date:
    """The first day of the (UTC) month holding `value`."""
    value = value.astimezone(dt.UTC)
    return dt.date(value.year, value.month, 1)


def next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def partition_name(month: dt.date) -> str:
    return f"{TABLE}_p{month:%Y%m}"


def _bounds(month: dt.date) -> str:
    return f"FROM ('{month.isoformat()} 00:00+00') TO ('{next_month(month).isoformat()} 00:00+00')"


def _month_key(month: dt.date) -> int:
    return month.year * 100 + month.month


def partitions(cursor: Any) -> dict[dt.date, str]:
    """The partitions that exist, by month."""
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = %s::regclass",
        [TABLE],
    )
    found: dict[dt.date, str] = {}
    for (name,) in cursor.fetchall():
        match = re.fullmatch(rf"{TABLE}_p(\d{{4}})(\d{{2}})", name)
        if match:
            found[dt.date(int(match[1]), int(match[2]), 1)] = name
    return found


def _default_holds(cursor: Any, month: dt.date) -> bool:
    """Whether the default partition (rows written outside `ingest_batch`) holds this month."""
    start, end = _range(month)
    cursor.execute(
        f"SELECT EXISTS (SELECT 1 FROM {DEFAULT} WHERE occurred_at >= %s AND occurred_at < %s)",
        [start, end],
    )
    return bool(cursor.fetchone()[0])


def ensure_partitions(cursor: Any, months: list[dt.date]) -> None:
    """Create the missing partitions of these months (a month lock serialises racing creators).

    Rows of the month that reached the default partition move into the new one.
    """
    existing = partitions(cursor)
    for month in months:
        if month in existing:
            continue
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_MONTH_LOCK, _month_key(month)])
        if month in partitions(cursor):
            continue
        name = partition_name(month)
        cursor.execute(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING GENERATED)")
        if _default_holds(cursor, month):
            start, end = _range(month)
            cursor.execute(
                f"WITH moved AS (DELETE FROM {DEFAULT} WHERE occurred_at >= %s AND occurred_at < %s"
                f" RETURNING {COLUMNS}) INSERT INTO {name} ({COLUMNS}) SELECT {COLUMNS} FROM moved",
                [start, end],
            )
        cursor.execute(f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES {_bounds(month)}")


def _range(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    end = next_month(month)
    return (
        dt.datetime(month.year, month.month, 1, tzinfo=dt.UTC),
        dt.datetime(end.year, end.month, 1, tzinfo=dt.UTC),
    )


class BulkLoad:
    """One import's load tables: months the store did not hold when the import first met them."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.tables: dict[dt.date, str] = {}
        self.merged: set[dt.date] = set()  # months that held rows: ordinary merge
        self.deletions: tuple[int, bool] | None = None  # where the deletion count stood
        self.accounts_went = False  # an account was deleted while the import ran

    # --- lifecycle ----------------------------------------------------------------------------
    def begin(self) -> None:
        """Own this run's load tables (session lock) and drop those a killed import left."""
        with connection.cursor() as cursor:
            self.deletions = _deletions(cursor)
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [_RUN_LOCK, self.run_id])
            cursor.execute(
                "SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE %s",
                [LOAD_PREFIX.replace("_", r"\_") + "%"],
            )
            for (name,) in cursor.fetchall():
                match = re.fullmatch(rf"{LOAD_PREFIX}(\d+)_\d{{6}}", name)
                if not match:
                    continue
                if int(match[1]) == self.run_id:  # an earlier attempt at this very run
                    cursor.execute(f"DROP TABLE {name}")
                    continue
                cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_RUN_LOCK, int(match[1])])
                if cursor.fetchone()[0]:  # nobody runs that import any more
                    cursor.execute(f"DROP TABLE IF EXISTS {name}")
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_RUN_LOCK, int(match[1])])

    def accounts_deleted(self) -> bool:
        """Whether an account was deleted since the last look (the import then forgets the ids
        it knew, and drops loaded rows of missing accounts before attaching)."""
        with connection.cursor() as cursor:
            now = _deletions(cursor)
        if now == self.deletions:
            return False
        self.deletions, self.accounts_went = now, True
        return True

    def end(self) -> None:
        """Give up the run's lock (load tables of a failed import are dropped by the next one)."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_RUN_LOCK, self.run_id])

    # --- per batch ----------------------------------------------------------------------------
    def table_for(self, cursor: Any, month: dt.date) -> str | None:
        """The load table of a month the store holds no rows of (created on first sight); None
        for a month that holds rows (it takes the ordinary merge)."""
        if month not in self.tables and month not in self.merged:
            if self._holds(cursor, partitions(cursor).get(month), month):
                self.merged.add(month)
            else:
                table = f"{LOAD_PREFIX}{self.run_id}_{month:%Y%m}"
                cursor.execute(
                    f"CREATE TABLE IF NOT EXISTS {table}"
                    f" (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING GENERATED)"
                )
                self.tables[month] = table
        return self.tables.get(month)

    # --- at the end ---------------------------------------------------------------------------
    def finish(
        self,
        hidden_account_ids: list[int],
        helper: Helper | None = None,
        before_attach: Callable[[], object] | None = None,
    ) -> int:
        """Attach every load table as its month's partition; return rows dropped on the way.

        Dropped: duplicates of one source key within the file, rows of accounts hidden since
        they were loaded, and rows another writer stored first in a month it created meanwhile.
        The partition's indexes are built before the attach, shared with `helper` (a second
        connection) when there is one. `before_attach` runs after the builds, before the first
        attach: the import session settles its new accounts there (every loaded row's account
        must exist before anything is attached).
        """
        dropped = 0
        for month, table in sorted(self.tables.items()):
            with transaction.atomic(), connection.cursor() as cursor:
                if hidden_account_ids:
                    cursor.execute(
                        f"DELETE FROM {table} WHERE actor_id = ANY(%s) OR receiver_id = ANY(%s)",
                        [hidden_account_ids, hidden_account_ids],
                    )
                    dropped += cursor.rowcount
            dropped += self._build_indexes(month, table, helper)
        if before_attach is not None:
            before_attach()
        went = self.accounts_deleted() or self.accounts_went
        for month, table in sorted(self.tables.items()):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)", [_MONTH_LOCK, _month_key(month)]
                )
                if went:  # rows naming an account deleted while they were loaded
                    cursor.execute(
                        f"DELETE FROM {table} t WHERE NOT EXISTS"
                        f" (SELECT FROM {ACCOUNTS} a WHERE a.id = t.actor_id) OR NOT EXISTS"
                        f" (SELECT FROM {ACCOUNTS} a WHERE a.id = t.receiver_id)"
                    )
                    dropped += cursor.rowcount
                dropped += self._attach(cursor, month, table)
        self.tables.clear()
        return dropped

    def _build_indexes(self, month: dt.date, table: str, helper: Helper | None) -> int:
        """Build the partition's indexes on the load table (the attach then adopts them instead
        of building its own); return the rows dropped as repeated keys.

        Each index is one sort of the month. The unique key index comes first, on this
        connection: it is the check for keys the file repeats (if it fails, the repeats are
        deleted and it is rebuilt). The others are taken from a shared queue by this connection
        and by the helper's, which joins as soon as it is free (it may still be storing the
        import's last accounts), so two cores sort at once.
        """
        with connection.cursor() as cursor:
            indexes = [ddl for _, _, ddl in _child_indexes(cursor, month, table)]
        keys = [ddl for ddl in indexes if "(source_hash" in ddl]
        others: deque[str] = deque(ddl for ddl in indexes if ddl not in keys)
        pending = helper.submit(_drain, others) if helper is not None else None
        dropped = 0
        try:
            with connection.cursor() as cursor:
                for ddl in keys:
                    try:
                        with transaction.atomic():
                            _run_ddl([ddl], cursor)
                    except IntegrityError:
                        cursor.execute(
                            f"DELETE FROM {table} a USING {table} b"
                            " WHERE a.source_hash = b.source_hash"
                            " AND a.occurred_at = b.occurred_at AND a.id > b.id"
                        )
                        dropped += cursor.rowcount
                        with transaction.atomic():
                            _run_ddl([ddl], cursor)
            _drain(others)
        finally:
            if pending is not None:
                pending.result()
        return dropped

    @staticmethod
    def _holds(cursor: Any, name: str | None, month: dt.date) -> bool:
        """Whether the store holds rows of this month (in its partition or the default one)."""
        if name is None:
            return _default_holds(cursor, month)
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {name})")
        return bool(cursor.fetchone()[0])

    def _attach(self, cursor: Any, month: dt.date, table: str) -> int:
        """Make the load table its month's partition (or merge it into rows stored meanwhile);
        return rows dropped as already stored."""
        name = partitions(cursor).get(month)
        if self._holds(cursor, name, month):
            # Someone stored rows of this month meanwhile: merge into theirs.
            ensure_partitions(cursor, [month])
            cursor.execute(f"SELECT count(*) FROM {table}")
            total = cursor.fetchone()[0]
            cursor.execute(
                f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {COLUMNS} FROM {table}"
                " ON CONFLICT (source_hash, occurred_at) DO NOTHING"
            )
            inserted = cursor.rowcount
            cursor.execute(f"DROP TABLE {table}")
            return int(total - inserted)
        if name is not None:
            cursor.execute(f"DROP TABLE {name}")  # an empty partition: replaced by the load
        partition = partition_name(month)
        for built, final, _ in _child_indexes(cursor, month, table):
            cursor.execute(f"ALTER INDEX {built} RENAME TO {final}")
        cursor.execute(f"ALTER TABLE {table} RENAME TO {partition}")
        # The primary key's index is built; the attach wants it as the partition's constraint.
        cursor.execute(
            f"ALTER TABLE {partition} ADD CONSTRAINT {partition}_pkey"
            f" PRIMARY KEY USING INDEX {partition}_pkey"
        )
        cursor.execute(
            f"ALTER TABLE {TABLE} ATTACH PARTITION {partition} FOR VALUES {_bounds(month)}"
        )
        return 0


_INDEX_DDL = re.compile(r"CREATE (UNIQUE )?INDEX (\S+) ON ONLY (\S+) USING (\w+) \(([^)]*)\)(.*)")


def _child_indexes(cursor: Any, month: dt.date, table: str) -> list[tuple[str, str, str]]:
    """The parent's indexes for a load table: (name on the load table, name once attached,
    CREATE INDEX statement). Attached, they are named as PostgreSQL names the indexes an attach
    creates (`<partition>_pkey`, `<partition>_<columns>_idx`)."""
    cursor.execute(
        "SELECT pg_get_indexdef(i.indexrelid), i.indisprimary FROM pg_index i"
        " WHERE i.indrelid = %s::regclass ORDER BY i.indexrelid",
        [TABLE],
    )
    partition = partition_name(month)
    statements = []
    for number, (ddl, primary) in enumerate(cursor.fetchall()):
        match = _INDEX_DDL.fullmatch(ddl)
        if match is None:
            raise RuntimeError(f"unexpected index definition on {TABLE}: {ddl}")
        unique, _, _, method, columns, rest = match.groups()
        names = "_".join(c.strip().split()[0].strip('"') for c in columns.split(","))
        final = f"{partition}_pkey" if primary else f"{partition}_{names}_idx"
        built = f"{table}_i{number}"
        # IF NOT EXISTS: a finish that failed later (at the attach) may be run again
        ddl = (
            f"CREATE {unique or ''}INDEX IF NOT EXISTS {built} ON {table}"
            f" USING {method} ({columns}){rest}"
        )
        statements.append((built, final, ddl))
    return statements


def _run_ddl(statements: list[str], cursor: Any = None) -> None:
    """Run statements on this cursor, or on a cursor of the calling thread's own connection."""
    if cursor is not None:
        # SET LOCAL holds for the rest of the transaction: once for all its statements
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        # Two connections already build at once (the import's and the helper's); parallel
        # workers on top oversubscribe the cores (settings.KLOUT_INDEX_BUILD_WORKERS).
        workers = int(settings.KLOUT_INDEX_BUILD_WORKERS)
        cursor.execute(f"SET LOCAL max_parallel_maintenance_workers = {workers}")
        # an index of a load table lost in a crash goes with the table (the re-run drops it)
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        for ddl in statements:
            cursor.execute(ddl)
        return
    with transaction.atomic(), connection.cursor() as own:
        _run_ddl(statements, own)


def _deletions(cursor: Any) -> tuple[int, bool]:
    """Where the count of account deletions stands (networks migration 0007)."""
    cursor.execute("SELECT last_value, is_called FROM networks_account_deletions")
    last, called = cursor.fetchone()
    return int(last), bool(called)


def _drain(statements: deque[str]) -> None:
    """Run statements taken one at a time from a queue another thread may be taking from too,
    each in its own transaction of this thread's connection."""
    while True:
        try:
            ddl = statements.popleft()
        except IndexError:
            return
        _run_ddl([ddl])
