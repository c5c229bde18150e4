"""Storing columnar blocks (PostgreSQL): a block's new accounts and its interactions, both by
binary COPY, on two connections at once when the import has a helper.

A block's new accounts get their ids from the account table's own sequence first, so the
interactions naming them can be written before the accounts are: the helper connection COPYs
the accounts while the import's connection goes on COPYing interactions, and PostgreSQL works on
two cores. Rows in a bulk load's tables are invisible until the attach, and the attach waits
until every account is stored (`settle`); a batch that merges rows into a visible month settles
before it writes them. So no visible interaction ever names an account that does not exist.

If someone else created one of the accounts meanwhile (a concurrent import or sync), the COPY
fails as a whole; the accounts are then inserted with ON CONFLICT DO NOTHING, and rows already
written with a reserved id that lost are given the winner's id before anything is attached.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt
from django.db import IntegrityError, connection, transaction
from psycopg.errors import UniqueViolation

from networks import partitions
from networks.account_ids import AccountIds, HiddenAccounts
from networks.edges import (
    I64,
    Column,
    EdgeBlock,
    Later,
    Packed,
    Text,
    Timestamps,
    layout,
    months_of,
    pack_binary_copy,
)
from networks.helper import Helper
from networks.models import NetworkAccount
from networks.partitions import BulkLoad

# The order of interaction rows as staged, copied and inserted (here and in networks.staging).
ROW_COLUMNS = "actor_id, receiver_id, network, kind, occurred_at, source_key"
# The rest of a new account's columns are the database's defaults (networks migration 0008).
NEW_ACCOUNT_COLUMNS = "id, network, external_id, created_at"
_NONE = np.zeros(0, np.int64)


def reserve_account_ids(cursor: Any, n: int) -> I64:
    """n new account ids (increasing) from the account table's own sequence."""
    table = NetworkAccount._meta.db_table
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    sequence = cursor.fetchone()[0]
    # one bytea of n big-endian int8s: one value to fetch, not n rows
    cursor.execute(
        "SELECT string_agg(int8send(nextval(%s::regclass)), '' ORDER BY i)"
        " FROM generate_series(1, %s) AS i",
        [sequence, n],
    )
    data = cursor.fetchone()[0]
    return np.frombuffer(data, ">i8").astype(np.int64)


class StoredAccounts(NamedTuple):
    """What storing a block's new accounts did: how many it created, and the accounts someone
    else created first (external ids, the ids reserved for them here, the ids they have)."""

    created: int
    lost: I64
    reserved: I64
    winners: I64


def store_new_accounts(
    cursor: Any, network: str, external: I64, ids: I64, now: dt.datetime
) -> StoredAccounts:
    """Create the accounts `external` (integer external ids, in key order) with the reserved
    `ids`."""
    table = NetworkAccount._meta.db_table
    n = len(external)
    # the ids' decimal text, one blob: numpy writes them as fixed-width bytes, NUL-padded
    digits = external.astype("S20")
    lengths = np.char.str_len(digits).astype(np.int64)
    padded = digits.view(np.uint8).reshape(n, 20)
    blob = padded[np.arange(20) < lengths[:, None]]
    data = pack_binary_copy(
        n,
        [
            ids,
            Text.constant(network, n),
            Text(blob, np.cumsum(lengths) - lengths, lengths),
            Timestamps(np.full(n, int(now.timestamp()), np.int64)),
        ],
    )
    try:
        with transaction.atomic():
            _copy_binary(cursor, f"{table} ({NEW_ACCOUNT_COLUMNS})", data)
        return StoredAccounts(n, _NONE, _NONE, _NONE)
    except (IntegrityError, UniqueViolation):  # COPY raises psycopg's own error
        pass
    # Someone created some of them meanwhile: insert the rest, learn who got which id.
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS ingest_new_accounts"
        f" (LIKE {table} INCLUDING DEFAULTS EXCLUDING IDENTITY)"
    )
    cursor.execute("TRUNCATE ingest_new_accounts")
    _copy_binary(cursor, f"ingest_new_accounts ({NEW_ACCOUNT_COLUMNS})", data)
    cursor.execute(
        f"INSERT INTO {table} ({NEW_ACCOUNT_COLUMNS}) SELECT {NEW_ACCOUNT_COLUMNS}"
        ' FROM ingest_new_accounts ORDER BY external_id COLLATE "C"'
        " ON CONFLICT (network, external_id) DO NOTHING"
    )
    created = cursor.rowcount
    cursor.execute(
        f"SELECT t.external_id, t.id, a.id FROM ingest_new_accounts t JOIN {table} a"
        " ON a.network = t.network AND a.external_id = t.external_id WHERE a.id <> t.id"
    )
    taken = cursor.fetchall()
    return StoredAccounts(
        created,
        np.array([int(e) for e, _, _ in taken], np.int64),
        np.array([r for _, r, _ in taken], np.int64),
        np.array([w for _, _, w in taken], np.int64),
    )


def store_new_accounts_apart(
    network: str, external: I64, ids: I64, now: dt.datetime
) -> StoredAccounts:
    """`store_new_accounts` in a transaction of this thread's own connection (the helper's)."""
    with transaction.atomic(), connection.cursor() as cursor:
        # a commit lost in a crash is redone by the re-run (it finds what exists): no need to
        # wait for the disk, as with the import's own batches
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        return store_new_accounts(cursor, network, external, ids, now)


def _copy_binary(cursor: Any, target: str, data: bytes) -> None:
    with cursor.cursor.copy(f"COPY {target} FROM STDIN (FORMAT binary)") as copy:
        copy.write(data)


@dataclass
class _Pending:
    """New accounts being stored on the helper, and what to store again if it fails."""

    future: Future[StoredAccounts]
    network: str
    external: I64
    ids: I64
    now: dt.datetime


class NewAccounts:
    """A columnar import's new accounts stored on the helper connection while the import's own
    connection goes on; `settle` waits for them (the import must before any attach)."""

    def __init__(self, helper: Helper) -> None:
        self.helper = helper
        self.pending: list[_Pending] = []

    def store(self, network: str, external: I64, ids: I64, now: dt.datetime) -> None:
        """Store these accounts (reserved `ids`) on the helper, without waiting."""
        future = self.helper.submit(store_new_accounts_apart, network, external, ids, now)
        self.pending.append(_Pending(future, network, external, ids, now))

    def settle(self, cursor: Any, names: AccountIds, tables: list[str]) -> int:
        """Wait for the accounts still being stored; give rows loaded (in `tables`) with a
        reserved id whose account someone else created first that account's id. Accounts the
        helper failed to store are stored here (or the error is raised, and nothing loaded is
        attached). Returns how many accounts were created."""
        created = 0
        while self.pending:
            job = self.pending.pop(0)
            try:
                stored = job.future.result()
            except Exception:  # the helper's connection failed: try once more on this one
                stored = store_new_accounts(cursor, job.network, job.external, job.ids, job.now)
            created += stored.created
            take_winners(cursor, names, stored, tables)
        return created


def take_winners(cursor: Any, names: AccountIds, stored: StoredAccounts, tables: list[str]) -> None:
    """Accounts someone else created first: learn their ids, and give them to rows already
    written in these (load or staging) tables with the ids reserved for them."""
    lost, reserved, winners = stored.lost, stored.reserved, stored.winners
    if not len(lost):
        return
    names.numeric.set(lost, winners)
    for table in tables:
        for column in ("actor_id", "receiver_id"):
            cursor.execute(
                f"UPDATE {table} t SET {column} = m.winner"
                " FROM unnest(%s::bigint[], %s::bigint[]) AS m(reserved, winner)"
                f" WHERE t.{column} = m.reserved",
                [reserved.tolist(), winners.tolist()],
            )


# A block's rows by month: their positions in the block, laid out for COPY but for the two ids.
LaidOut = dict[int, tuple[npt.NDArray[np.intp], Packed]]


def lay_out(network: str, block: EdgeBlock, keep: npt.NDArray[np.bool_] | None = None) -> LaidOut:
    """Lay out the block's (kept) rows month by month as interaction COPY rows, in ROW_COLUMNS
    order then post, leaving actor and receiver ids to be written in."""
    months = months_of(block.stamp)
    laid_out: LaidOut = {}
    for month in np.unique(months).tolist():
        chosen = months == month if keep is None else (months == month) & keep
        rows = np.flatnonzero(chosen)
        if not len(rows):
            continue
        columns: list[Column] = [
            Later(),
            Later(),
            Text.constant(network, len(rows)),
            Text.choice(block.kinds, block.kind[rows]),
            Timestamps(block.stamp[rows]),
            block.key.take(rows),
            None,
        ]
        laid_out[month] = (rows, layout(len(rows), columns))
    return laid_out


@dataclass(frozen=True)
class PreparedBlock:
    """A batch's block with what needs no database worked out (on the read-ahead thread)."""

    block: EdgeBlock
    named: I64  # its distinct ids, sorted
    laid_out: LaidOut  # its rows by month, laid out for COPY but for the account ids

    @classmethod
    def of(cls, network: str, block: EdgeBlock) -> PreparedBlock:
        return cls(block, np.unique([block.actor, block.receiver]), lay_out(network, block))


class RowStaging(Protocol):
    """What a block writer needs of the batch's merge (`networks.staging.Merge`), which resolves
    account ids and owns the staging tables; the writer touches neither itself."""

    def merge_binary(self, cursor: Any, data: bytes) -> int:
        """Stage binary COPY rows (ROW_COLUMNS, then the post's external id) and merge them into
        their visible months; return how many were inserted."""
        ...

    def resolve_block_ids(self, cursor: Any, named: I64, apart: bool) -> int:
        """Make every id among `named` (sorted, distinct) known to the import's map, creating the
        new accounts (on the helper if `apart` and there is one); return how many are new."""
        ...


class BlockWriter:
    """Stores one batch's block month by month, once the merge has resolved its account ids.

    With the helper's `NewAccounts` and a bulk load, new accounts are stored on the helper while
    this connection goes on, through this batch and the next ones: rows in load tables are
    invisible until the attach, which settles first. A batch with rows for a month that is
    merged (visible at once) settles before it writes them.
    """

    def __init__(
        self,
        network: str,
        names: AccountIds,
        staging: RowStaging,
        new_accounts: NewAccounts | None = None,
    ) -> None:
        self.network = network
        self.names = names
        self.staging = staging
        self.new_accounts = new_accounts

    def write(
        self,
        cursor: Any,
        prepared: PreparedBlock,
        hidden: HiddenAccounts,
        load: BulkLoad | None,
    ) -> tuple[int, int]:
        """Store the block; return (accounts created or being created, interactions inserted)."""
        block, laid_out = prepared.block, prepared.laid_out
        destinations: dict[int, str | None] = {}
        for month in laid_out:
            first = dt.date(month // 12, month % 12 + 1, 1)
            destinations[month] = load.table_for(cursor, first) if load is not None else None
            if destinations[month] is None:
                partitions.ensure_partitions(cursor, [first])
        merged = None in destinations.values()
        if merged and self.new_accounts is not None and load is not None:
            # rows merged into a month are visible at once
            self.new_accounts.settle(cursor, self.names, list(load.tables.values()))
        # new accounts may be stored on the helper only while every row naming them is loaded
        created = self.staging.resolve_block_ids(cursor, prepared.named, not merged)
        known = self.names.numeric
        actor, receiver = known.get(block.actor), known.get(block.receiver)
        keep = hidden.keeps_rows(actor, receiver)
        if not keep.all():  # rows of hidden accounts: lay out the others afresh
            laid_out = lay_out(self.network, block, keep)
        inserted = 0
        for month, table in destinations.items():
            if month not in laid_out:
                continue
            rows, packed = laid_out[month]
            data = packed.stream({0: actor[rows], 1: receiver[rows]})
            if table is None:
                inserted += self.staging.merge_binary(cursor, data)
            else:
                _copy_binary(cursor, f"{table} ({ROW_COLUMNS}, post_id)", data)
                inserted += len(rows)
        return created, inserted
