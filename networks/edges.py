"""Columnar edges: a block of a numeric edge-list file as numpy arrays, and PostgreSQL's binary
COPY format built from such arrays without a Python step per row.

Bulk edge files (Higgs) are hundreds of thousands of lines of `actor receiver unix_ts kind`. Made
into one record per line, Python spends more time on them than PostgreSQL spends storing them
(about 3 µs a line against COPY's 2 µs here). As arrays, a block of lines is parsed, resolved to
account ids and written as COPY rows in a handful of vectorised steps.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]
Rows = npt.NDArray[np.intp] | npt.NDArray[np.int64] | npt.NDArray[np.bool_] | slice

PG_EPOCH = 946_684_800  # 2000-01-01T00:00Z in Unix seconds: binary timestamps count from it
SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"


@dataclass(frozen=True)
class Text:
    """A text column: row i is `blob[start[i] : start[i] + length[i]]` (UTF-8 bytes)."""

    blob: U8
    start: I64
    length: I64

    def take(self, rows: Rows) -> Text:
        return Text(self.blob, self.start[rows], self.length[rows])

    @classmethod
    def constant(cls, value: str | bytes, n: int) -> Text:
        """The same text (or raw field bytes) in every row."""
        raw = value.encode() if isinstance(value, str) else value
        data = np.frombuffer(raw, dtype=np.uint8)
        return cls(data, np.zeros(n, np.int64), np.full(n, len(data), np.int64))

    @classmethod
    def choice(cls, values: Sequence[str], codes: npt.NDArray[np.integer]) -> Text:
        """Row i is `values[codes[i]]`."""
        encoded = [v.encode() for v in values]
        starts = np.cumsum([0, *(len(e) for e in encoded)])[:-1].astype(np.int64)
        lengths = np.array([len(e) for e in encoded], np.int64)
        blob = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        return cls(blob, starts[codes], lengths[codes])

    def values(self) -> list[str]:
        """The rows as Python strings (for tests and debugging: bulk paths never need them)."""
        data = self.blob.tobytes()
        return [
            data[s : s + n].decode()
            for s, n in zip(self.start.tolist(), self.length.tolist(), strict=True)
        ]


@dataclass(frozen=True)
class Timestamps:
    """A timestamptz column from whole Unix seconds."""

    seconds: I64


@dataclass(frozen=True)
class Later:
    """A bigint column whose values are written after the layout (`Packed.stream`)."""


# A binary COPY column: int64 values (bigint), Timestamps, Text, Later, or None for all-NULL.
Column = I64 | Timestamps | Text | Later | None


def _be(values: npt.NDArray[np.integer], dtype: str) -> U8:
    """Big-endian bytes of each value, one row per value."""
    n = len(values)
    return values.astype(dtype).view(np.uint8).reshape(n, np.dtype(dtype).itemsize)


_EIGHT = _be(np.array([8]), ">i4")[0]
_NULL = _be(np.array([-1]), ">i4")[0]


def pack_binary_copy(n: int, columns: Sequence[Column]) -> bytes:
    """PostgreSQL's binary COPY stream (signature, n rows, trailer) for these columns, in order.

    Row i holds field i of every column. bigint and timestamptz are 8-byte big-endian integers
    (timestamps in microseconds since 2000); text is its bytes; NULL is length -1. Rows come
    out grouped by layout (see `layout`), not in their given order.
    """
    return layout(n, columns).stream({})


@dataclass
class Packed:
    """Binary COPY rows laid out, with the `Later` columns' values still to be written."""

    # each group: positions of its rows among the n, their byte matrix, and the byte offset of
    # each Later column's value (by column number) in every row of the group
    groups: list[tuple[npt.NDArray[np.intp], U8, dict[int, int]]]

    def stream(self, later: dict[int, I64]) -> bytes:
        """The COPY stream, with row i's value of Later column c taken from `later[c][i]`."""
        parts = [SIGNATURE]
        for rows, matrix, offsets in self.groups:
            for column, at in offsets.items():
                matrix[:, at : at + 8] = _be(later[column][rows], ">i8")
            parts.append(matrix.tobytes())
        parts.append(TRAILER)
        return b"".join(parts)


def layout(n: int, columns: Sequence[Column]) -> Packed:
    """Lay out n binary COPY rows of these columns: everything but the `Later` columns' values.

    Rows whose texts have the same lengths have the same layout: each such group is one byte
    matrix, a column slice per field, and the groups follow each other. So the work that needs
    only the rows themselves can be done ahead (on an import's read-ahead thread), and account
    ids written in last.
    """
    texts = [c for c in columns if isinstance(c, Text)]
    if n and texts:
        # one code per combination of text lengths
        code = np.zeros(n, np.int64)
        for t in texts:
            code = code * (int(t.length.max()) + 1) + t.length
        layouts, group = np.unique(code, return_inverse=True)
        order = np.argsort(group, kind="stable")
        bounds = np.cumsum(np.bincount(group, minlength=len(layouts)))[:-1]
        groups = np.split(order, bounds)
    else:
        groups = [np.arange(n)] if n else []
    header = _be(np.array([len(columns)]), ">i2")[0]
    packed = Packed([])
    for rows in groups:
        width = 2  # every row of the group: the field count, then each field
        for col in columns:
            if isinstance(col, Text):
                width += 4 + int(col.length[rows[0]])
            else:
                width += 4 if col is None else 12
        matrix = np.empty((len(rows), width), np.uint8)
        matrix[:, 0:2] = header
        offsets: dict[int, int] = {}
        at = 2
        for number, col in enumerate(columns):
            if col is None:
                matrix[:, at : at + 4] = _NULL
                at += 4
            elif isinstance(col, Text):
                size = int(col.length[rows[0]])
                matrix[:, at : at + 4] = _be(np.array([size]), ">i4")[0]
                starts = col.start[rows]
                matrix[:, at + 4 : at + 4 + size] = col.blob[starts[:, None] + np.arange(size)]
                at += 4 + size
            else:
                matrix[:, at : at + 4] = _EIGHT
                if isinstance(col, Later):
                    offsets[number] = at + 4
                else:
                    values = col.seconds[rows] if isinstance(col, Timestamps) else col[rows]
                    if isinstance(col, Timestamps):
                        values = (values - PG_EPOCH) * 1_000_000
                    matrix[:, at + 4 : at + 12] = _be(values, ">i8")
                at += 12
        packed.groups.append((rows, matrix, offsets))
    return packed


@dataclass(frozen=True)
class EdgeBlock:
    """Consecutive lines of a numeric edge list, as columns.

    Ids are the accounts' external ids as integers (their text is the canonical decimal form);
    `kind` indexes `kinds`; `key` is each row's source key.
    """

    actor: I64
    receiver: I64
    stamp: I64  # Unix seconds
    kind: npt.NDArray[np.uint8]
    kinds: tuple[str, ...]
    key: Text

    def __len__(self) -> int:
        return len(self.actor)

    def take(self, rows: Rows) -> EdgeBlock:
        return EdgeBlock(
            self.actor[rows],
            self.receiver[rows],
            self.stamp[rows],
            self.kind[rows],
            self.kinds,
            self.key.take(rows),
        )

    @staticmethod
    def concat(blocks: Sequence[EdgeBlock]) -> EdgeBlock:
        """One block of all rows, in order (every block names the same kinds)."""
        if len(blocks) == 1:
            return blocks[0]
        sizes = [len(b.key.blob) for b in blocks]
        shift = np.cumsum([0, *sizes])[:-1]
        return EdgeBlock(
            np.concatenate([b.actor for b in blocks]),
            np.concatenate([b.receiver for b in blocks]),
            np.concatenate([b.stamp for b in blocks]),
            np.concatenate([b.kind for b in blocks]),
            blocks[0].kinds,
            Text(
                np.concatenate([b.key.blob for b in blocks]),
                np.concatenate([b.key.start + s for b, s in zip(blocks, shift, strict=True)]),
                np.concatenate([b.key.length for b in blocks]),
            ),
        )


def repeat_numbers(*columns: npt.NDArray[np.integer]) -> npt.NDArray[np.int64]:
    """For each row, how many rows up to and including it are equal to it in every column (1 for
    a first occurrence). Rows keep their order; equal rows are numbered in row order."""
    n = len(columns[0])
    if n == 0:
        return np.zeros(0, np.int64)
    # Repeats are rare: a sort of one mixed hash rules them out in one step (a collision only
    # sends the block the exact way).
    mixed = np.zeros(n, np.uint64)
    for c in columns:
        mixed = (mixed ^ c.astype(np.uint64)) * np.uint64(0x9E3779B97F4A7C15)
    mixed.sort()
    if not (mixed[1:] == mixed[:-1]).any():
        return np.ones(n, np.int64)
    order = np.lexsort(tuple(reversed([*columns, np.arange(n)])))
    ordered = [c[order] for c in columns]
    same = np.ones(n - 1, bool)
    for c in ordered:
        same &= c[1:] == c[:-1]
    starts = np.flatnonzero(np.concatenate([[True], ~same]))
    run_start = np.repeat(starts, np.diff(np.append(starts, n)))
    numbers = np.empty(n, np.int64)
    numbers[order] = np.arange(n) - run_start + 1
    return numbers


def months_of(stamps: I64) -> npt.NDArray[np.int64]:
    """Each Unix time's (UTC) month as year * 12 + month - 1."""
    month = stamps.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)
    return month + 1970 * 12


class IdMap:
    """Integer external id -> account id, for the columnar path (sorted arrays, grown per batch).

    Safe to read while another thread adds: an addition swaps in new arrays in one assignment.
    """

    def __init__(self) -> None:
        self._arrays = (np.zeros(0, np.int64), np.zeros(0, np.int64))
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._arrays[0])

    def missing(self, external: I64) -> I64:
        """The ids among these (sorted, distinct) not yet known."""
        _, found = self._find(self._arrays[0], external)
        return external[~found]

    def add(self, external: I64, ids: I64) -> None:
        with self._lock:
            known, known_ids = self._arrays
            merged = np.concatenate([known, external])
            order = np.argsort(merged, kind="stable")
            self._arrays = (merged[order], np.concatenate([known_ids, ids])[order])

    def set(self, external: I64, ids: I64) -> None:
        """Change the ids of these external ids where the map holds them (the others are
        looked up afresh when next met)."""
        with self._lock:
            known, known_ids = self._arrays
            at, found = self._find(known, external)
            changed = known_ids.copy()
            changed[at[found]] = ids[found]
            self._arrays = (known, changed)

    def get(self, external: I64) -> I64:
        """Account ids of these external ids; KeyError if the map does not hold one of them."""
        known, ids = self._arrays
        at, found = self._find(known, external)
        if not found.all():
            missing = external[~found]
            raise KeyError(
                f"{len(missing)} external ids not resolved to accounts, e.g. {missing[:5].tolist()}"
            )
        return ids[at]

    @staticmethod
    def _find(known: I64, external: I64) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
        """Where each of `external` is or would be in `known`, and whether it is there."""
        at = np.searchsorted(known, external)
        found = at < len(known)
        found[found] = known[at[found]] == external[found]
        return at, found


def parse_decimal(raw: U8, start: I64, length: I64) -> I64 | None:
    """The decimal numbers at `raw[start[i] : start[i] + length[i]]` (1 to 18 digits each), or
    None unless every one is canonical: digits only, no leading zero."""
    if not len(start):
        return np.zeros(0, np.int64)
    if length.min() < 1 or length.max() > 18:
        return None
    first = raw[start]
    if ((first == ord("0")) & (length > 1)).any():
        return None
    value = np.zeros(len(start), np.int64)
    for k in range(int(length.max())):
        inside = k < length
        digit = raw[np.where(inside, start + k, start)].astype(np.int64) - ord("0")
        if ((digit < 0) | (digit > 9))[inside].any():
            return None
        value = np.where(inside, value * 10 + digit, value)
    return value
