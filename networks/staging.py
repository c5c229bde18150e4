"""The set-based merge behind `ingest_batch`: stage rows in temp tables, then one INSERT per table.

PostgreSQL stages with COPY; SQLite with executemany. Both merge with INSERT ... SELECT joined
against the account table (external id -> id in SQL) and skip conflicts, so a batch is idempotent.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from networks import partitions
from networks.models import Interaction, NetworkAccount, Post
from networks.partitions import BulkLoad
from networks.records import AccountRecord, IngestResult, InteractionRecord, PostRecord

STAGING_DDL = (
    "CREATE TEMP TABLE IF NOT EXISTS ingest_account"
    " (external_id text, handle text, display_name text, protected boolean)",
    "CREATE TEMP TABLE IF NOT EXISTS ingest_post"
    " (external_id text, account text, posted_at {time}, body text, kind text, tags text)",
    "CREATE TEMP TABLE IF NOT EXISTS ingest_interaction"
    " (actor text, receiver text, post text, kind text, occurred_at {time}, source_key text)",
    # every external id the batch names, resolved once to its account id and visibility
    "CREATE TEMP TABLE IF NOT EXISTS ingest_ids (external_id text, id bigint, visible boolean)",
)
STAGING_TABLES = ("ingest_account", "ingest_post", "ingest_interaction", "ingest_ids")

INTERACTION_COLUMNS = "(network, actor_id, receiver_id, post_id, kind, occurred_at, source_key)"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str) -> str:
    # Most values are plain ids; translate only when a special character is present.
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


def _sqlite_time(value: dt.datetime) -> str:
    # The exact text Django's SQLite backend stores, so comparisons by string stay correct.
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return str(value)


class Merge:
    """One batch's staging and merge on the current connection, inside the caller's transaction."""

    def __init__(self, network: str) -> None:
        self.network = network
        self.postgres = connection.vendor == "postgresql"
        self.account_table = NetworkAccount._meta.db_table
        self.post_table = Post._meta.db_table
        self.interaction_table = Interaction._meta.db_table
        self.user_table = get_user_model()._meta.db_table
        # SQLite's planner, lacking statistics, would loop over all accounts of the network and
        # probe the staging table; CROSS JOIN pins the staging table as the outer loop there.
        self.join = "JOIN" if self.postgres else "CROSS JOIN"

    # --- staging ------------------------------------------------------------------------------
    def prepare(self, cursor: Any) -> None:
        """Create the session's staging tables once and empty them."""
        time_type = "double precision" if self.postgres else "text"
        for ddl in STAGING_DDL:
            cursor.execute(ddl.format(time=time_type))
        if not self.postgres:
            # SQLite joins the id table by nested loops: give them an index to probe.
            cursor.execute("CREATE INDEX IF NOT EXISTS ingest_ids_key ON ingest_ids (external_id)")
        if self.postgres:
            cursor.execute(f"TRUNCATE {', '.join(STAGING_TABLES)}")
            # A lost commit after a crash is refilled by the idempotent re-run; no need to wait.
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
            cursor.execute("SET LOCAL work_mem = '64MB'")
        else:
            for table in STAGING_TABLES:
                cursor.execute(f"DELETE FROM {table}")

    def stage(
        self,
        cursor: Any,
        accounts: Sequence[AccountRecord],
        posts: Sequence[PostRecord],
        interactions: Sequence[InteractionRecord],
    ) -> None:
        """Load the batch into the staging tables."""
        if self.postgres:
            self._copy(cursor, "ingest_account", self._pg_account_lines(accounts))
            self._copy(cursor, "ingest_post", self._pg_post_lines(posts))
            self._copy(cursor, "ingest_interaction", self._pg_interaction_lines(interactions))
            if len(interactions) > 5000:
                # Planner statistics on a freshly grown account table are stale; a bulk batch
                # always wants hash joins, a provider's small batch index lookups.
                cursor.execute("SET LOCAL enable_nestloop TO OFF")
            else:
                cursor.execute("ANALYZE ingest_interaction")
            return
        cursor.executemany(
            "INSERT INTO ingest_account VALUES (%s, %s, %s, %s)",
            [(a.external_id, a.handle, a.display_name, a.protected) for a in accounts],
        )
        cursor.executemany(
            "INSERT INTO ingest_post VALUES (%s, %s, %s, %s, %s, %s)",
            [
                (
                    p.external_id,
                    p.account,
                    _sqlite_time(p.posted_at),
                    p.text,
                    p.kind,
                    json.dumps(list(p.tags)),
                )
                for p in posts
            ],
        )
        cursor.executemany(
            "INSERT INTO ingest_interaction VALUES (%s, %s, %s, %s, %s, %s)",
            [
                (i.actor, i.receiver, i.post, i.kind, _sqlite_time(i.occurred_at), i.source_key)
                for i in interactions
            ],
        )

    @staticmethod
    def _copy(cursor: Any, table: str, lines: Iterable[str]) -> None:
        data = "".join(lines)
        if not data:
            return
        with cursor.cursor.copy(f"COPY {table} FROM STDIN") as copy:
            copy.write(data)

    @staticmethod
    def _pg_account_lines(accounts: Sequence[AccountRecord]) -> Iterable[str]:
        for a in accounts:
            yield (
                f"{_copy_text(a.external_id)}\t{_copy_text(a.handle)}\t"
                f"{_copy_text(a.display_name)}\t{'t' if a.protected else 'f'}\n"
            )

    @staticmethod
    def _pg_post_lines(posts: Sequence[PostRecord]) -> Iterable[str]:
        for p in posts:
            yield (
                f"{_copy_text(p.external_id)}\t{_copy_text(p.account)}\t{p.posted_at.timestamp()}\t"
                f"{_copy_text(p.text)}\t{p.kind}\t{_copy_text(json.dumps(list(p.tags)))}\n"
            )

    @staticmethod
    def _pg_interaction_lines(interactions: Sequence[InteractionRecord]) -> Iterable[str]:
        text = _copy_text
        # Bulk files are in time order: convert each distinct moment to epoch text once.
        last_when: dt.datetime | None = None
        epoch = ""
        for i in interactions:
            post = "\\N" if i.post is None else text(i.post)
            if i.occurred_at is not last_when:
                last_when, epoch = i.occurred_at, str(i.occurred_at.timestamp())
            yield (
                f"{text(i.actor)}\t{text(i.receiver)}\t{post}\t{i.kind}\t"
                f"{epoch}\t{text(i.source_key)}\n"
            )

    # --- merge --------------------------------------------------------------------------------
    def _time(self, column: str) -> str:
        return f"to_timestamp({column})" if self.postgres else column

    def merge(
        self,
        cursor: Any,
        *,
        has_accounts: bool,
        has_posts: bool,
        links_posts: bool,
        load: BulkLoad | None = None,
    ) -> IngestResult:
        """Insert what is new and return the counts; hidden accounts' rows are dropped."""
        result = IngestResult()
        now: Any = timezone.now() if self.postgres else _sqlite_time(timezone.now())
        net = self.network
        acc = self.account_table
        new_account_columns = (
            "network, external_id, handle, display_name, protected, opted_out, needs_reconnect,"
            " created_at, sync_cursor, last_sync_counts, last_sync_error"
        )
        if has_accounts:
            cursor.execute(
                f"INSERT INTO {acc} AS a ({new_account_columns})"
                f" SELECT %s, external_id, handle, display_name, protected, false, false, %s,"
                f" '', '{{}}', '' FROM ingest_account WHERE true"
                " ON CONFLICT (network, external_id) DO UPDATE SET"
                " handle = CASE WHEN excluded.handle <> '' THEN excluded.handle ELSE a.handle END,"
                " display_name = CASE WHEN excluded.display_name <> ''"
                " THEN excluded.display_name ELSE a.display_name END,"
                " protected = (a.protected OR excluded.protected)"
                " WHERE (excluded.handle <> '' AND excluded.handle <> a.handle)"
                " OR (excluded.display_name <> '' AND excluded.display_name <> a.display_name)"
                " OR (excluded.protected AND NOT a.protected)",
                [net, now],
            )
        result.accounts_created = self._resolve_ids(cursor, now)
        if has_posts:
            tags = "s.tags::jsonb" if self.postgres else "s.tags"
            cursor.execute(
                f"INSERT INTO {self.post_table}"
                " (network, account_id, external_id, posted_at, text, kind, tags)"
                f" SELECT %s, a.id, s.external_id, {self._time('s.posted_at')}, s.body, s.kind,"
                f" {tags}"
                f" FROM ingest_post s {self.join} ingest_ids a ON a.external_id = s.account"
                " WHERE a.visible"
                " ON CONFLICT (network, external_id) DO NOTHING",
                [net],
            )
            result.posts_inserted = max(cursor.rowcount, 0)
        # Posts may come from earlier batches, so join the table whenever a record names one.
        post_join, post_id, post_params = "", "NULL", []
        if links_posts:
            post_join = (
                f" LEFT JOIN {self.post_table} p ON p.network = %s AND p.external_id = s.post"
            )
            post_id, post_params = "p.id", [net]
        select = (
            f" SELECT %s, a.id, r.id, {post_id}, s.kind, {self._time('s.occurred_at')},"
            " s.source_key"
            " FROM ingest_interaction s"
            f" {self.join} ingest_ids a ON a.external_id = s.actor"
            f" {self.join} ingest_ids r ON r.external_id = s.receiver"
            f"{post_join}"
            " WHERE a.visible AND r.visible"
        )
        params = [net, *post_params]
        if self.postgres:
            result.interactions_inserted = self._insert_partitioned(cursor, select, params, load)
        else:
            cursor.execute(
                f"INSERT INTO {self.interaction_table} {INTERACTION_COLUMNS}{select}"
                " ON CONFLICT (network, source_key) DO NOTHING",
                params,
            )
            result.interactions_inserted = max(cursor.rowcount, 0)
        return result

    def _resolve_ids(self, cursor: Any, now: Any) -> int:
        """Fill `ingest_ids` with every named account's id and visibility; create the new ones.

        One pass against the account table per batch (not one per join). New accounts are
        inserted in key order, so the unique index takes each near the previous one, and their
        ids are appended as rows of their own (an id of NULL and visible NULL mark "not yet";
        the joins keep only visible rows). Returns how many accounts were created.
        """
        net, acc = self.network, self.account_table
        visible = (
            "NOT (a.protected OR a.opted_out) AND NOT EXISTS"
            f" (SELECT 1 FROM {self.user_table} u WHERE u.id = a.user_id AND u.opted_out)"
        )
        named = (
            "SELECT actor AS external_id FROM ingest_interaction"
            " UNION SELECT receiver FROM ingest_interaction UNION SELECT account FROM ingest_post"
        )
        cursor.execute(
            f"INSERT INTO ingest_ids (external_id, id, visible) SELECT x.external_id, a.id,"
            f" CASE WHEN a.id IS NULL THEN NULL ELSE {visible} END FROM ({named}) x"
            f" LEFT JOIN {acc} a ON a.network = %s AND a.external_id = x.external_id",
            [net],
        )
        columns = (
            "network, external_id, handle, display_name, protected, opted_out, needs_reconnect,"
            " created_at, sync_cursor, last_sync_counts, last_sync_error"
        )
        insert_new = (
            f"INSERT INTO {acc} ({columns})"
            " SELECT %s, external_id, '', '', false, false, false, %s, '', '{}', ''"
            " FROM ingest_ids WHERE id IS NULL ORDER BY external_id"
            " ON CONFLICT (network, external_id) DO NOTHING"
        )
        cursor.execute("SELECT count(*) FROM ingest_ids WHERE id IS NULL")
        missing = cursor.fetchone()[0]
        if not missing:
            return 0
        if self.postgres:
            cursor.execute(
                f"WITH new AS ({insert_new} RETURNING external_id, id)"
                " INSERT INTO ingest_ids SELECT external_id, id, true FROM new",
                [net, now],
            )
        else:
            cursor.execute(insert_new, [net, now])
        created = max(cursor.rowcount, 0)
        if created < missing or not self.postgres:
            # SQLite, or a concurrent batch created some of them first: look those up.
            cursor.execute(
                f"INSERT INTO ingest_ids SELECT a.external_id, a.id, {visible}"
                f" FROM ingest_ids x {self.join} {acc} a"
                " ON a.network = %s AND a.external_id = x.external_id WHERE x.id IS NULL"
                " AND NOT EXISTS (SELECT 1 FROM ingest_ids y"
                " WHERE y.external_id = x.external_id AND y.id IS NOT NULL)",
                [net],
            )
        return created

    def _insert_partitioned(
        self, cursor: Any, select: str, params: list[Any], load: BulkLoad | None
    ) -> int:
        """Months an import loads go to its load tables; the rest merge into their partitions."""
        months = partitions.staged_months(cursor)
        routed = load.route(cursor, months) if load is not None else {}
        inserted = 0
        outside = ""
        for month, table in routed.items():
            start, end = partitions.epoch_range(month)
            cursor.execute(
                f"INSERT INTO {table} {INTERACTION_COLUMNS}{select}"
                f" AND s.occurred_at >= {start!r} AND s.occurred_at < {end!r}",
                params,
            )
            inserted += max(cursor.rowcount, 0)
            outside += f" AND NOT (s.occurred_at >= {start!r} AND s.occurred_at < {end!r})"
        if load is not None:
            load.loaded += inserted
        rest = [m for m in months if m not in routed]
        if rest:
            partitions.ensure_partitions(cursor, rest)
            cursor.execute(
                f"INSERT INTO {self.interaction_table} {INTERACTION_COLUMNS}{select}{outside}"
                " ON CONFLICT (source_hash, occurred_at) DO NOTHING",
                params,
            )
            inserted += max(cursor.rowcount, 0)
        return inserted

    def newly_protected_ids(self, cursor: Any) -> list[int]:
        """Ids of staged accounts that are protected now (their stored interactions must go)."""
        cursor.execute(
            f"SELECT a.id FROM ingest_account s {self.join} {self.account_table} a"
            " ON a.network = %s AND a.external_id = s.external_id WHERE s.protected",
            [self.network],
        )
        return [row[0] for row in cursor.fetchall()]
