"""The set-based merge behind `ingest_batch`.

Per batch: described accounts are upserted from a staging table; every external id the batch
names is resolved to its account id once (new accounts created in one ordered INSERT ... RETURNING)
and kept in an `AccountIds` map that lives as long as the import; interactions of hidden accounts
are dropped in Python. Interaction rows then carry ids, not names:
- PostgreSQL, a month the import bulk-loads (`BulkLoad`): COPY straight into its load table;
- otherwise: staged (COPY on PostgreSQL, executemany on SQLite) and merged with one
  INSERT ... SELECT ... ON CONFLICT DO NOTHING, so a batch is idempotent.
Interactions read as columnar blocks (PostgreSQL) take the same two destinations through
`networks.columnar.BlockWriter`; their integer ids are resolved here too (`resolve_block_ids`:
reserved ids, new accounts by binary COPY), so every account id is resolved in this module.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from networks import partitions
from networks.account_ids import AccountIds, HiddenAccounts
from networks.columnar import (
    ROW_COLUMNS,
    BlockWriter,
    NewAccounts,
    PreparedBlock,
    reserve_account_ids,
    store_new_accounts,
    take_winners,
)
from networks.edges import I64, EdgeBlock
from networks.models import Interaction, NetworkAccount, Post
from networks.partitions import BulkLoad
from networks.records import (
    AccountRecord,
    IngestResult,
    InteractionRecord,
    PostRecord,
)

STAGING_DDL = (
    "CREATE TEMP TABLE IF NOT EXISTS ingest_account"
    " (external_id text, handle text, display_name text, protected boolean)",
    "CREATE TEMP TABLE IF NOT EXISTS ingest_post (external_id text, account_id bigint,"
    " posted_at {time}, body text, kind text, tags text, anonymous_reactions bigint)",
    "CREATE TEMP TABLE IF NOT EXISTS ingest_rows (actor_id bigint, receiver_id bigint,"
    " network text, kind text, occurred_at {time}, source_key text, post text)",
    "CREATE TEMP TABLE IF NOT EXISTS ingest_names (external_id text)",
)
STAGING_TABLES = ("ingest_account", "ingest_post", "ingest_rows", "ingest_names")
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


@dataclass
class MonthRows:
    """One month's interactions: names to resolve, and the rest of each row ready to write."""

    actors: list[str] = field(default_factory=list)
    receivers: list[str] = field(default_factory=list)
    # PostgreSQL: the COPY text after the two ids; SQLite: the parameters after them
    tails: list[Any] = field(default_factory=list)
    links_posts: bool = False


@dataclass
class PreparedBatch:
    """What `prepare_batch` makes of a batch without the database."""

    accounts: list[AccountRecord]
    posts: list[PostRecord]
    named: set[str]
    months: dict[tuple[int, int], MonthRows]
    interactions_read: int
    block: PreparedBlock | None = None  # interactions read as columns (PostgreSQL only)


def prepare_batch(
    network: str,
    accounts: Sequence[AccountRecord],
    posts: Sequence[PostRecord],
    interactions: Sequence[InteractionRecord],
    *,
    postgres: bool,
    blocks: Sequence[EdgeBlock] = (),
) -> PreparedBatch:
    """Everything about a batch that needs no database, so imports can do it on the read-ahead
    thread while PostgreSQL merges the previous batch: the last description of an account or post
    wins, every name to resolve, rows grouped by month with their text formatted once."""
    text = _copy_text
    months: dict[tuple[int, int], MonthRows] = {}
    last_when: dt.datetime | None = None
    stamp = ""
    rows = MonthRows()
    for i in interactions:
        when = i.occurred_at
        if when is not last_when:  # bulk files repeat one moment for many rows
            last_when = when
            stamp = when.isoformat(" ") if postgres else _sqlite_time(when)
            utc = when.astimezone(dt.UTC)
            rows = months.setdefault((utc.year, utc.month), MonthRows())
        rows.actors.append(i.actor)
        rows.receivers.append(i.receiver)
        if i.post is not None:
            rows.links_posts = True
        if postgres:
            post = "\\N" if i.post is None else text(i.post)
            rows.tails.append(f"{network}\t{i.kind}\t{stamp}\t{text(i.source_key)}\t{post}\n")
        else:
            rows.tails.append((network, i.kind, stamp, i.source_key, i.post))
    block = EdgeBlock.concat(blocks) if blocks else None
    named = {i.actor for i in interactions}
    named.update(i.receiver for i in interactions)
    named.update(p.account for p in posts)
    return PreparedBatch(
        accounts=list({a.external_id: a for a in accounts}.values()),
        posts=list({p.external_id: p for p in posts}.values()),
        named=named,
        months=months,
        interactions_read=len(interactions) + sum(len(b) for b in blocks),
        block=None if block is None else PreparedBlock.of(network, block),
    )


def hidden_account_ids(cursor: Any, network: str) -> set[int]:
    """Ids of the network's hidden accounts, by the one rule (`NetworkAccount.objects.hidden_ids`),
    run on the caller's cursor."""
    ids = NetworkAccount.objects.filter(network=network).hidden_ids()
    sql, params = ids.query.sql_with_params()
    cursor.execute(sql, params)
    return {row[0] for row in cursor.fetchall()}


class Merge:
    """One batch's staging and merge on the current connection, inside the caller's transaction.

    Account ids are resolved here and only here: text ids of records (`_resolve`, new accounts in
    one INSERT ... RETURNING) and integer ids of columnar blocks (`resolve_block_ids`, reserved
    ids, new accounts by binary COPY). Its staging tables are its own: the block writer goes
    through `resolve_block_ids` and `merge_binary` (`networks.columnar.RowStaging`).
    """

    def __init__(
        self,
        network: str,
        names: AccountIds | None = None,
        new_accounts: NewAccounts | None = None,
    ) -> None:
        self.network = network
        self.names = names if names is not None else AccountIds()
        self.new_accounts = new_accounts  # columnar blocks' new accounts on the helper
        self.postgres = connection.vendor == "postgresql"
        self.account_table = NetworkAccount._meta.db_table
        self.post_table = Post._meta.db_table
        self.interaction_table = Interaction._meta.db_table

    def prepare(self, cursor: Any) -> None:
        """Create the session's staging tables once and empty them."""
        time_type = "timestamp with time zone" if self.postgres else "text"
        for ddl in STAGING_DDL:
            cursor.execute(ddl.format(time=time_type))
        if self.postgres:
            cursor.execute(f"TRUNCATE {', '.join(STAGING_TABLES)}")
            # A lost commit after a crash is refilled by the idempotent re-run; no need to wait.
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
            cursor.execute("SET LOCAL work_mem = '64MB'")
        else:
            for table in STAGING_TABLES:
                cursor.execute(f"DELETE FROM {table}")

    def run(self, cursor: Any, batch: PreparedBatch, load: BulkLoad | None = None) -> IngestResult:
        """Store the batch; return what it changed. Hidden accounts' rows are dropped (the
        rule is read once the batch's own accounts, perhaps protected now, are stored)."""
        result = IngestResult(interactions_read=batch.interactions_read)
        self.prepare(cursor)
        self.names.start_batch()  # the map's bound applies between batches, never within one
        if batch.accounts:
            self._upsert_accounts(cursor, batch.accounts)
        result.accounts_created = self._resolve(cursor, batch.named)
        hidden_now = HiddenAccounts(hidden_account_ids(cursor, self.network))
        if batch.posts:
            result.posts_inserted = self._insert_posts(cursor, batch.posts, hidden_now)
        if batch.months:
            result.interactions_inserted = self._insert_interactions(
                cursor, batch.months, hidden_now, load
            )
        if batch.block is not None:
            writer = BlockWriter(self.network, self.names, self, self.new_accounts)
            created, inserted = writer.write(cursor, batch.block, hidden_now, load)
            result.accounts_created += created
            result.interactions_inserted += inserted
        return result

    # --- accounts -----------------------------------------------------------------------------
    def _upsert_accounts(self, cursor: Any, accounts: Sequence[AccountRecord]) -> None:
        """Described accounts: new ones created, names filled in, `protected` sticky."""
        self._load(
            cursor,
            "ingest_account",
            [(a.external_id, a.handle, a.display_name, a.protected) for a in accounts],
        )
        now = self._now()
        cursor.execute(
            # the other columns take their database defaults (networks migration 0008)
            f"INSERT INTO {self.account_table} AS a"
            " (network, external_id, handle, display_name, protected, created_at)"
            " SELECT %s, external_id, handle, display_name, protected, %s"
            " FROM ingest_account WHERE true"
            " ON CONFLICT (network, external_id) DO UPDATE SET"
            " handle = CASE WHEN excluded.handle <> '' THEN excluded.handle ELSE a.handle END,"
            " display_name = CASE WHEN excluded.display_name <> ''"
            " THEN excluded.display_name ELSE a.display_name END,"
            " protected = (a.protected OR excluded.protected)"
            " WHERE (excluded.handle <> '' AND excluded.handle <> a.handle)"
            " OR (excluded.display_name <> '' AND excluded.display_name <> a.display_name)"
            " OR (excluded.protected AND NOT a.protected)",
            [self.network, now],
        )

    def _resolve(self, cursor: Any, named: set[str]) -> int:
        """Learn the account id of every name not yet known, creating the new accounts.

        New accounts are inserted in key order (the unique index takes each near the previous
        one); a name another batch created first is looked up by index. Returns how many were
        created.
        """
        known = self.names.ids
        unknown = [n for n in named if n not in known]
        if not unknown:
            return 0
        if self.postgres:
            self._copy(cursor, "ingest_names", "", [_copy_text(n) + "\n" for n in unknown])
        else:
            self._load(cursor, "ingest_names", [(n,) for n in unknown])
        acc, net = self.account_table, self.network
        # Byte order: the unique index's own (COLLATE "C"), and no locale-aware comparisons.
        order = 'external_id COLLATE "C"' if self.postgres else "external_id"
        insert = (  # the other columns take their database defaults (networks migration 0008)
            f"INSERT INTO {acc} (network, external_id, created_at) SELECT %s, external_id, %s"
            f" FROM ingest_names WHERE true ORDER BY {order}"
        )
        params = [net, self._now()]
        try:
            # Names unknown to this import are usually new: a plain insert skips the
            # speculative-insertion dance; if one exists after all, redo it with ON CONFLICT.
            with transaction.atomic():
                cursor.execute(f"{insert} RETURNING external_id, id", params)
                created = cursor.fetchall()
        except IntegrityError:
            cursor.execute(
                f"{insert} ON CONFLICT (network, external_id) DO NOTHING RETURNING external_id, id",
                params,
            )
            created = cursor.fetchall()
        self.names.remember(created)
        if len(created) < len(unknown):
            cursor.execute(
                f"SELECT a.external_id, a.id FROM ingest_names x JOIN {acc} a"
                " ON a.network = %s AND a.external_id = x.external_id",
                [net],
            )
            self.names.remember(cursor.fetchall())
        return len(created)

    def resolve_block_ids(self, cursor: Any, named: I64, apart: bool) -> int:
        """Integer ids of a columnar block: reserve ids for the new accounts among `named` and
        store them, on the helper if `apart` and there is one (their rows are loaded, attached
        only after the helper settles), otherwise here. Returns how many are new."""
        new = self.names.numeric.missing(named)
        if len(new) and not self._network_was_empty(cursor):
            new = self._look_up_numeric(cursor, new)
        if not len(new):
            return 0
        new = new[np.argsort(new.astype("S20"), kind="stable")]  # key order: the index's
        ids = reserve_account_ids(cursor, len(new))
        self.names.remember_numeric(new, ids)
        now = dt.datetime.now(dt.UTC)
        if apart and self.new_accounts is not None:
            self.new_accounts.store(self.network, new, ids, now)
            return len(new)
        stored = store_new_accounts(cursor, self.network, new, ids, now)
        take_winners(cursor, self.names, stored, [])
        return stored.created

    def _network_was_empty(self, cursor: Any) -> bool:
        """Whether the network had no account when the import first asked: then an id it has
        not met is new (a concurrent creator is caught by the unique index)."""
        if self.names.network_was_empty is None:
            cursor.execute(
                f"SELECT NOT EXISTS (SELECT 1 FROM {self.account_table} WHERE network = %s)",
                [self.network],
            )
            self.names.network_was_empty = bool(cursor.fetchone()[0])
        return self.names.network_was_empty

    def _look_up_numeric(self, cursor: Any, external: I64) -> I64:
        """Learn the ids of the accounts among these that exist; return the others."""
        cursor.execute("TRUNCATE ingest_names")
        self._copy(cursor, "ingest_names", "", [f"{e}\n" for e in external.tolist()])
        cursor.execute(
            f"SELECT x.external_id::bigint, a.id FROM ingest_names x JOIN {self.account_table} a"
            " ON a.network = %s AND a.external_id = x.external_id",
            [self.network],
        )
        found = np.array(cursor.fetchall(), np.int64).reshape(-1, 2)
        if len(found):
            self.names.remember_numeric(found[:, 0], found[:, 1])
        return self.names.numeric.missing(external)

    # --- posts --------------------------------------------------------------------------------
    def _insert_posts(
        self, cursor: Any, posts: Sequence[PostRecord], hidden: HiddenAccounts
    ) -> int:
        ids = self.names.ids
        rows = [
            (
                p.external_id,
                ids[p.account],
                self._time(p.posted_at),
                p.text,
                p.kind,
                json.dumps(list(p.tags)),
                p.anonymous_reactions,
            )
            for p in posts
            if hidden.keeps(ids[p.account])
        ]
        if not rows:
            return 0
        self._load(cursor, "ingest_post", rows)
        tags = "tags::jsonb" if self.postgres else "tags"
        cursor.execute(
            f"INSERT INTO {self.post_table}"
            " (network, account_id, external_id, posted_at, text, kind, tags, anonymous_reactions)"
            f" SELECT %s, account_id, external_id, posted_at, body, kind, {tags},"
            " anonymous_reactions FROM ingest_post WHERE true"
            " ON CONFLICT (network, external_id) DO NOTHING",
            [self.network],
        )
        inserted = max(cursor.rowcount, 0)
        if any(p.anonymous_reactions for p in posts):
            # a later dump's counts for posts already stored: raised, never lowered
            cursor.execute(
                f"UPDATE {self.post_table} SET anonymous_reactions = i.anonymous_reactions"
                f" FROM ingest_post i WHERE {self.post_table}.network = %s"
                f" AND {self.post_table}.external_id = i.external_id"
                f" AND {self.post_table}.anonymous_reactions < i.anonymous_reactions",
                [self.network],
            )
        return inserted

    # --- interactions -------------------------------------------------------------------------
    def _insert_interactions(
        self,
        cursor: Any,
        months: dict[tuple[int, int], MonthRows],
        hidden: HiddenAccounts,
        load: BulkLoad | None,
    ) -> int:
        """Each month's rows, ids in front, to its destination (a load table or the merge)."""
        ids = self.names.ids
        inserted = 0
        for (year, number), rows in sorted(months.items()):
            trios = zip(rows.actors, rows.receivers, rows.tails, strict=True)
            kept = [(ids[a], ids[r], t) for a, r, t in trios]
            if hidden:
                kept = [(a, r, t) for a, r, t in kept if hidden.keeps(a, r)]
            if self.postgres:
                group: list[Any] = [f"{a}\t{r}\t{t}" for a, r, t in kept]
            else:
                group = [(a, r, *t) for a, r, t in kept]
            if not group:
                continue
            first = dt.date(year, number, 1)
            table = load.table_for(cursor, first) if load is not None else None
            if table is not None and not rows.links_posts:
                # A month the import loads, and no post to look up: straight into its table.
                self._copy(cursor, table, f"({ROW_COLUMNS}, post_id)", group)
                inserted += len(group)
                continue
            if table is None and self.postgres:
                partitions.ensure_partitions(cursor, [first])
            inserted += self._merge_rows(cursor, group, table)
        return inserted

    def _merge_rows(self, cursor: Any, lines: list[Any], table: str | None) -> int:
        """Stage rows and insert them with their post ids; skip keys already stored."""
        if self.postgres:
            cursor.execute("TRUNCATE ingest_rows")
            self._copy(cursor, "ingest_rows", "", lines)
        else:
            cursor.execute("DELETE FROM ingest_rows")
            cursor.executemany("INSERT INTO ingest_rows VALUES (%s, %s, %s, %s, %s, %s, %s)", lines)
        return self._merge_staged(cursor, table)

    def merge_binary(self, cursor: Any, data: bytes) -> int:
        """Stage binary COPY rows (ROW_COLUMNS, then the post's external id) and merge them
        into their visible months; return how many were inserted."""
        cursor.execute("TRUNCATE ingest_rows")
        columns = f"({ROW_COLUMNS}, post)"
        with cursor.cursor.copy(f"COPY ingest_rows {columns} FROM STDIN (FORMAT binary)") as copy:
            copy.write(data)
        return self._merge_staged(cursor, None)

    def _merge_staged(self, cursor: Any, table: str | None) -> int:
        """Insert the staged rows with their post ids; skip keys already stored."""
        if table is not None:
            conflict = ""
        elif self.postgres:
            conflict = " ON CONFLICT (source_hash, occurred_at) DO NOTHING"
        else:
            conflict = " ON CONFLICT (network, source_key) DO NOTHING"
        staged = ", ".join(f"s.{c.strip()}" for c in ROW_COLUMNS.split(","))
        cursor.execute(
            f"INSERT INTO {table or self.interaction_table} ({ROW_COLUMNS}, post_id)"
            f" SELECT {staged}, p.id FROM ingest_rows s LEFT JOIN {self.post_table} p"
            f" ON p.network = s.network AND p.external_id = s.post WHERE true{conflict}"
        )
        return max(cursor.rowcount, 0)

    # --- plumbing -----------------------------------------------------------------------------
    def _now(self) -> Any:
        return timezone.now() if self.postgres else _sqlite_time(timezone.now())

    def _time(self, value: dt.datetime) -> str:
        return value.isoformat(" ") if self.postgres else _sqlite_time(value)

    def _load(self, cursor: Any, table: str, rows: list[tuple[Any, ...]]) -> None:
        """Fill a staging table: COPY on PostgreSQL, executemany on SQLite."""
        if not rows:
            return
        if self.postgres:
            # psycopg escapes and adapts each value (the hot interaction rows use `_copy`)
            with cursor.cursor.copy(f"COPY {table} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(rows[0]))
            cursor.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)

    @staticmethod
    def _copy(cursor: Any, table: str, columns: str, lines: Iterable[str]) -> None:
        """COPY text-format lines, written in chunks."""
        with cursor.cursor.copy(f"COPY {table} {columns} FROM STDIN") as copy:
            chunk: list[str] = []
            for line in lines:
                chunk.append(line)
                if len(chunk) >= 50_000:
                    copy.write("".join(chunk))
                    chunk.clear()
            if chunk:
                copy.write("".join(chunk))

    def newly_protected_ids(self, cursor: Any) -> list[int]:
        """Ids of staged accounts that are protected now (their stored interactions must go)."""
        cursor.execute(
            f"SELECT a.id FROM ingest_account s JOIN {self.account_table} a"
            " ON a.network = %s AND a.external_id = s.external_id WHERE s.protected",
            [self.network],
        )
        return [row[0] for row in cursor.fetchall()]
