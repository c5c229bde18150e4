"""Read one scoring window from the store into the engine's arrays, in bulk.

No per-row ORM objects: a fixed handful of queries whatever the window's size. On PostgreSQL the
interactions stream through binary ``COPY`` straight into numpy (no Python object per row); other
databases go through a plain cursor.
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection

from networks.models import Interaction, InteractionKind, Network, NetworkAccount, Post, PostKind
from scoring.engine.types import Interactions, Kind, Posts

WINDOW_DAYS = 90
# Engine network codes: the position in Network's declaration order (stable; append-only enum).
NETWORK_CODES: tuple[str, ...] = tuple(Network.values)
KIND_CODES: dict[str, int] = {k.value: int(Kind[k.name]) for k in InteractionKind}

Int64Array = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Window:
    """The engine input for one day plus what maps its dense indices back to the store."""

    day: dt.date
    start: dt.datetime
    end: dt.datetime  # exclusive: midnight UTC after `day`
    interactions: Interactions
    posts: Posts
    account_ids: Int64Array  # dense person index -> NetworkAccount.pk (sorted)
    post_ids: Int64Array  # dense post index -> Post.pk (sorted)
    groups: dict[int, list[int]]  # user id -> dense indices of their visible linked accounts
    day_counts: dict[str, int]  # network code -> interactions on `day` itself
    yesterday_counts: dict[str, int]  # network code -> interactions on the day before

    @property
    def as_of(self) -> float:
        """The engine's "now": the end of the day, in unix seconds."""
        return self.end.timestamp()

    @property
    def networks(self) -> tuple[str, ...]:
        """Engine network code -> Network value."""
        return NETWORK_CODES

    def index_of(self, account_id: int) -> int:
        """The dense person index of an account, or -1 when it is not in the window."""
        i = int(np.searchsorted(self.account_ids, account_id))
        if i < self.account_ids.shape[0] and int(self.account_ids[i]) == account_id:
            return i
        return -1


def window_bounds(day: dt.date, *, days: int = WINDOW_DAYS) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the rolling window ending with `day` (days are UTC dates)."""
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    return end - dt.timedelta(days=days), end


def collect_window(*, day: dt.date, days: int = WINDOW_DAYS) -> Window:
    """Read the window ending with `day`: visible accounts only, as dense engine arrays."""
    start, end = window_bounds(day, days=days)
    hidden = _hidden_account_ids()
    actor, receiver, kind, time, post, network = _interaction_columns(start, end)
    if hidden.size and actor.size:
        keep = ~(np.isin(actor, hidden) | np.isin(receiver, hidden))
        actor, receiver, kind, post, network = (
            a[keep] for a in (actor, receiver, kind, post, network)
        )
        time = time[keep]
    p_id, p_author, p_time, p_network, p_kind = _post_columns(start, end)
    if hidden.size and p_id.size:
        keep = ~np.isin(p_author, hidden)
        p_id, p_author, p_network, p_kind = (a[keep] for a in (p_id, p_author, p_network, p_kind))
        p_time = p_time[keep]

    account_ids = np.unique(np.concatenate([actor, receiver, p_author]))
    # Posts come back ordered by id, so the dense post index is a searchsorted away.
    dense_post = np.full(post.shape[0], -1, dtype=np.int64)
    if p_id.size and post.size:
        pos = np.searchsorted(p_id, post)
        pos_clipped = np.minimum(pos, p_id.shape[0] - 1)
        found = (post >= 0) & (p_id[pos_clipped] == post)
        dense_post[found] = pos_clipped[found]

    interactions = Interactions(
        actor=np.searchsorted(account_ids, actor).astype(np.int32),
        receiver=np.searchsorted(account_ids, receiver).astype(np.int32),
        kind=kind.astype(np.int8),
        time=time,
        post=dense_post,
        network=network.astype(np.int8),
        n_people=int(account_ids.shape[0]),
    )
    posts = Posts(
        author=np.searchsorted(account_ids, p_author).astype(np.int32),
        time=p_time,
        network=p_network.astype(np.int8),
        is_share=p_kind == _POST_KIND_CODES[PostKind.RESHARE],
        is_reply=p_kind == _POST_KIND_CODES[PostKind.REPLY],
    )
    day_start = end.timestamp() - 86400.0
    day_counts = _per_network(network[time >= day_start])
    yesterday_counts = _per_network(network[(time >= day_start - 86400.0) & (time < day_start)])
    return Window(
        day=day,
        start=start,
        end=end,
        interactions=interactions,
        posts=posts,
        account_ids=account_ids,
        post_ids=p_id,
        groups=_groups(account_ids),
        day_counts=day_counts,
        yesterday_counts=yesterday_counts,
    )


def _per_network(network: Int64Array) -> dict[str, int]:
    counts = np.bincount(network, minlength=len(NETWORK_CODES))
    return {NETWORK_CODES[i]: int(c) for i, c in enumerate(counts) if c}


_POST_KIND_CODES = {k: i for i, k in enumerate(PostKind.values)}


def _bounds(start: dt.datetime, end: dt.datetime) -> list[Any]:
    """Window bounds as the database driver wants them (SQLite stores naive UTC text)."""
    return [
        connection.ops.adapt_datetimefield_value(start),
        connection.ops.adapt_datetimefield_value(end),
    ]


def _case(column: str, codes: dict[str, int], default: int) -> str:
    """A SQL CASE turning a text choice column into its small integer code."""
    whens = " ".join(f"WHEN '{name}' THEN {code}" for name, code in codes.items())
    return f"(CASE {column} {whens} ELSE {default} END)"


def _hidden_account_ids() -> Int64Array:
    """Accounts that must never be scored (the one rule: `NetworkAccount.objects.hidden_ids`)."""
    ids = NetworkAccount.objects.hidden_ids()
    return np.sort(np.fromiter(ids, dtype=np.int64))


def _interaction_sql(start: dt.datetime, end: dt.datetime) -> tuple[str, list[Any]]:
    table = Interaction._meta.db_table
    kind = _case("kind", KIND_CODES, int(Kind.MENTION))
    net = _case("network", {code: i for i, code in enumerate(NETWORK_CODES)}, 0)
    if connection.vendor == "postgresql":
        epoch = "EXTRACT(EPOCH FROM occurred_at)::float8"
    else:
        epoch = "occurred_at"
    sql = (
        f"SELECT actor_id::bigint, receiver_id::bigint, {kind}::bigint, {epoch}, "
        f"COALESCE(post_id, -1)::bigint, {net}::bigint FROM {table} "
        "WHERE occurred_at >= %s AND occurred_at < %s"
    )
    if connection.vendor != "postgresql":
        sql = sql.replace("::bigint", "")
    return sql, _bounds(start, end)


# One binary COPY row: a field count, then (length, value) per field, all big-endian.
_COPY_ROW = np.dtype(
    [
        ("n", ">i2"),
        ("l0", ">i4"),
        ("actor", ">i8"),
        ("l1", ">i4"),
        ("receiver", ">i8"),
        ("l2", ">i4"),
        ("kind", ">i8"),
        ("l3", ">i4"),
        ("time", ">f8"),
        ("l4", ">i4"),
        ("post", ">i8"),
        ("l5", ">i4"),
        ("network", ">i8"),
    ]
)
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00"


def _interaction_columns(
    start: dt.datetime, end: dt.datetime
) -> tuple[Int64Array, Int64Array, Int64Array, npt.NDArray[np.float64], Int64Array, Int64Array]:
    """The window's interactions as six columns (actor, receiver, kind, time, post, network)."""
    sql, params = _interaction_sql(start, end)
    if connection.vendor == "postgresql":
        return _copy_columns(sql, params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    n = len(rows)
    cols: Sequence[Sequence[object]] = list(zip(*rows, strict=True)) if n else [()] * 6
    times = np.fromiter(
        (_epoch(v) for v in cols[3]),
        dtype=np.float64,
        count=n,
    )
    return (
        np.fromiter(cols[0], dtype=np.int64, count=n),
        np.fromiter(cols[1], dtype=np.int64, count=n),
        np.fromiter(cols[2], dtype=np.int64, count=n),
        times,
        np.fromiter(cols[4], dtype=np.int64, count=n),
        np.fromiter(cols[5], dtype=np.int64, count=n),
    )


def _epoch(value: object) -> float:
    """SQLite hands datetimes back as text (or datetime, with converters on)."""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def _copy_columns(
    sql: str, params: list[Any]
) -> tuple[Int64Array, Int64Array, Int64Array, npt.NDArray[np.float64], Int64Array, Int64Array]:
    """Stream a fixed-width all-non-null SELECT through binary COPY into numpy columns.

    Rows are parsed a slice at a time (whole rows out of the stream's chunks), so memory holds the
    columns and one slice of the wire format, never the whole stream (6.6 GB at 100M rows).
    """
    row_size = _COPY_ROW.itemsize
    parts: list[tuple[np.ndarray, ...]] = []
    pending = bytearray()
    started = False
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        query = raw.mogrify(sql, params)
        with raw.copy(f"COPY ({query}) TO STDOUT (FORMAT binary)") as copy:
            for chunk in copy:
                pending += chunk
                if not started:
                    if len(pending) < 19:
                        continue
                    if not pending.startswith(_COPY_HEADER):
                        raise RuntimeError("unexpected COPY header from PostgreSQL")
                    (ext_len,) = struct.unpack_from(">i", pending, 15)
                    del pending[: 19 + ext_len]
                    started = True
                if len(pending) >= 1 << 24:
                    whole = len(pending) // row_size * row_size
                    parts.append(_columns_of(pending[:whole]))
                    del pending[:whole]
    if not started:
        raise RuntimeError("unexpected COPY header from PostgreSQL")
    body = pending[: len(pending) - 2]  # trailer is a -1 field count
    if len(body) % row_size:
        raise RuntimeError("COPY stream does not end on a row boundary")
    parts.append(_columns_of(body))
    columns = [np.concatenate([part[i] for part in parts]) for i in range(6)]
    return (columns[0], columns[1], columns[2], columns[3], columns[4], columns[5])


def _columns_of(
    body: bytes | bytearray,
) -> tuple[Int64Array, Int64Array, Int64Array, npt.NDArray[np.float64], Int64Array, Int64Array]:
    rows = np.frombuffer(bytes(body), dtype=_COPY_ROW)
    return (
        rows["actor"].astype(np.int64),
        rows["receiver"].astype(np.int64),
        rows["kind"].astype(np.int8),  # small codes: a byte each, not eight
        rows["time"].astype(np.float64),
        rows["post"].astype(np.int64),
        rows["network"].astype(np.int8),
    )


def _post_columns(
    start: dt.datetime, end: dt.datetime
) -> tuple[Int64Array, Int64Array, npt.NDArray[np.float64], Int64Array, Int64Array]:
    """Posts published in the window, ordered by id: (id, author, time, network, kind)."""
    table = Post._meta.db_table
    net = _case("network", {code: i for i, code in enumerate(NETWORK_CODES)}, 0)
    kind = _case("kind", {str(k): v for k, v in _POST_KIND_CODES.items()}, 0)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, account_id, posted_at, {net}, {kind} FROM {table} "
            "WHERE posted_at >= %s AND posted_at < %s ORDER BY id",
            _bounds(start, end),
        )
        rows = cursor.fetchall()
    n = len(rows)
    cols: Sequence[Sequence[object]] = list(zip(*rows, strict=True)) if n else [()] * 5
    return (
        np.fromiter(cols[0], dtype=np.int64, count=n),
        np.fromiter(cols[1], dtype=np.int64, count=n),
        np.fromiter((_epoch(v) for v in cols[2]), dtype=np.float64, count=n),
        np.fromiter(cols[3], dtype=np.int64, count=n),
        np.fromiter(cols[4], dtype=np.int64, count=n),
    )


def _groups(account_ids: Int64Array) -> dict[int, list[int]]:
    """User id -> dense indices of their visible linked accounts present in the window."""
    linked = (
        NetworkAccount.objects.visible().filter(user__isnull=False).values_list("pk", "user_id")
    )
    groups: dict[int, list[int]] = {}
    for account_id, user_id in linked.iterator(chunk_size=10_000):
        i = int(np.searchsorted(account_ids, account_id))
        if i < account_ids.shape[0] and int(account_ids[i]) == account_id:
            groups.setdefault(int(user_id), []).append(i)
    return groups
