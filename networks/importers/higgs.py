"""Higgs Twitter activity (SNAP): `userA userB unix_ts RT|MT|RE`, actor first.

Source key: the line itself (`a>b@ts:TYPE`). The same (a, b, ts) under two types is two typed
events (a reply is also recorded as a mention) and both are kept; scoring may merge them. An
identical line repeated at the same second is kept as another event (`#2`, see RepeatKeys).

On PostgreSQL the file is read as columns (`parse_columnar`): blocks of clean lines become numpy
arrays in a few vectorised steps; a block with anything unusual in it (a malformed line, a tab,
an id with a leading zero) is read line by line as `parse` reads it, with the same keys and line
numbers.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from networks.edges import EdgeBlock, Text, parse_decimal, repeat_numbers
from networks.importers.base import Item, RepeatKeys
from networks.importers.columnar import ColumnarImporter, aligned_chunks
from networks.models import InteractionKind, Network
from networks.records import BadLine, InteractionRecord

KINDS = {"RT": InteractionKind.SHARE, "MT": InteractionKind.MENTION, "RE": InteractionKind.REPLY}
# Kind codes of columnar blocks: 0 RT, 1 MT, 2 RE.
BLOCK_KINDS = (str(InteractionKind.SHARE), str(InteractionKind.MENTION), str(InteractionKind.REPLY))
BLOCK_BYTES = 1 << 21  # about 75,000 lines


class HiggsImporter(ColumnarImporter):
    name = "higgs"
    default_network = Network.HIGGS
    description = "Higgs Twitter activity file (userA userB unix_ts RT|MT|RE)"

    def parse(self) -> Iterator[Item]:
        with self.open_text(self.path) as stream:
            yield from self._lines(enumerate(stream, 1), RepeatKeys())

    def parse_columnar(self) -> Iterator[EdgeBlock | Item]:
        """Blocks of clean lines as columns; other blocks as `parse` reads them."""
        repeats = RepeatKeys()
        number = 0  # lines before the block
        with self.open_binary(self.path) as stream:
            # Blocks end where the second changes: repeat numbering never spans two blocks.
            for chunk in aligned_chunks(stream, BLOCK_BYTES, stamp_field=2):
                block = _block(chunk, repeats)
                if block is not None:
                    yield block
                    number += len(block)
                    continue
                lines = list(io.StringIO(chunk.decode("utf-8", "replace"), newline=""))
                yield from self._lines(enumerate(lines, number + 1), repeats)
                number += len(lines)

    def _lines(
        self, numbered: Iterator[tuple[int, str]], repeats: RepeatKeys
    ) -> Iterator[InteractionRecord | BadLine]:
        utc = dt.UTC
        kinds = {k: str(v) for k, v in KINDS.items()}
        # The file is in time order: one datetime per distinct second, not one per line.
        last_stamp, when = "", dt.datetime.fromtimestamp(0, utc)
        for number, line in numbered:
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 4 or parts[3] not in kinds or not parts[2].isdigit():
                yield BadLine(number, f"expected 'userA userB unix_ts RT|MT|RE': {line[:80]!r}")
                continue
            actor, receiver, stamp, kind = parts
            if stamp != last_stamp:
                try:
                    when = dt.datetime.fromtimestamp(int(stamp), utc)
                except (ValueError, OverflowError, OSError):
                    yield BadLine(number, f"timestamp {stamp[:30]!r} is out of range")
                    continue
                last_stamp = stamp
            yield InteractionRecord(
                actor,
                receiver,
                kinds[kind],
                when,
                repeats.key(f"{actor}>{receiver}@{stamp}:{kind}", stamp),
            )


def _block(chunk: bytes, repeats: RepeatKeys) -> EdgeBlock | None:
    """The block as columns, or None unless every line is clean: `a b ts XX\\n` with single
    spaces, canonical decimal ids (no leading zero: text and number then name the same account)
    of up to 18 digits, a Unix second of up to 11 and a type of RT, MT or RE."""
    # the file's last line may lack its newline
    raw = np.frombuffer(chunk if chunk.endswith(b"\n") else chunk + b"\n", np.uint8)
    ends = np.flatnonzero(raw == ord("\n"))
    n = len(ends)
    if n == 0:
        return None
    starts = np.concatenate([[0], ends[:-1] + 1]).astype(np.int64)
    found = np.flatnonzero(raw == ord(" "))
    if len(found) != 3 * n:
        return None
    spaces = found.reshape(n, 3)
    # each line's three spaces inside it, the type's two letters right after the third
    if (spaces[:, 0] <= starts).any() or (spaces[:, 2] != ends - 3).any():
        return None
    first, second = raw[ends - 2], raw[ends - 1]
    kind = np.where(second == ord("E"), 2, np.where(first == ord("M"), 1, 0)).astype(np.uint8)
    known = ((first == ord("R")) | (first == ord("M"))) & (second == ord("T"))
    if not (known | ((first == ord("R")) & (second == ord("E")))).all():
        return None
    actor = parse_decimal(raw, starts, spaces[:, 0] - starts)
    receiver = parse_decimal(raw, spaces[:, 0] + 1, spaces[:, 1] - spaces[:, 0] - 1)
    stamp_length = spaces[:, 2] - spaces[:, 1] - 1
    stamp = parse_decimal(raw, spaces[:, 1] + 1, stamp_length)
    if actor is None or receiver is None or stamp is None or stamp_length.max() > 11:
        return None
    # The source key is the line with its three spaces made `>`, `@` and `:`.
    keys = raw.copy()
    for column, mark in enumerate(b">@:"):
        keys[spaces[:, column]] = mark
    lengths = ends - starts
    # RepeatKeys restarts whenever the second changes, in file order: number within such runs,
    # the first run carrying on from the lines before the block if it is the same second.
    run = np.concatenate([[0], np.cumsum(stamp[1:] != stamp[:-1])])
    numbers = repeat_numbers(run, actor, receiver, kind)
    first_run = np.flatnonzero(run == 0)
    carried = repeats.stamp == str(stamp[0]) and bool(repeats.seen)
    if carried:
        for i in first_run.tolist():
            numbers[i] += repeats.seen.get(_base(keys, starts[i], lengths[i]), 0)
    # ... and hand the block's last second on to whatever reads the next lines.
    last_run = np.flatnonzero(run == run[-1])
    seen = dict(repeats.seen) if carried and run[-1] == 0 else {}
    for i in last_run.tolist():
        seen[_base(keys, starts[i], lengths[i])] = int(numbers[i])
    repeats.stamp, repeats.seen = str(stamp[-1]), seen
    again = np.flatnonzero(numbers > 1)
    if len(again):  # rare: the nth identical line at one second gets "#n"
        extra = bytearray()
        starts, lengths = starts.copy(), lengths.copy()
        for i in again.tolist():
            key = keys[starts[i] : starts[i] + lengths[i]].tobytes() + b"#%d" % numbers[i]
            starts[i], lengths[i] = len(keys) + len(extra), len(key)
            extra += key
        keys = np.concatenate([keys, np.frombuffer(bytes(extra), np.uint8)])
    return EdgeBlock(actor, receiver, stamp, kind, BLOCK_KINDS, Text(keys, starts, lengths))


def _base(keys: npt.NDArray[np.uint8], start: int, length: int) -> str:
    """A row's key before any `#n`: RepeatKeys counts by it."""
    return keys[start : start + length].tobytes().decode()
