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
import re
from collections.abc import Iterator

import numpy as np

from networks.edges import EdgeBlock, Text, repeat_numbers
from networks.importers.base import Importer, Item, RepeatKeys, aligned_chunks
from networks.models import InteractionKind, Network
from networks.records import BadLine, InteractionRecord

KINDS = {"RT": InteractionKind.SHARE, "MT": InteractionKind.MENTION, "RE": InteractionKind.REPLY}
# Kind codes of columnar blocks: 0 RT, 1 MT, 2 RE.
BLOCK_KINDS = (str(InteractionKind.SHARE), str(InteractionKind.MENTION), str(InteractionKind.REPLY))
# A block read as columns: nothing but lines of canonical decimal ids (no leading zero, so text and
# number name the same account), a Unix second, one of the three types, one space apart.
_ID = rb"(?:0|[1-9][0-9]{0,17})"
_CLEAN = re.compile(rb"(?:" + _ID + b" " + _ID + rb" (?:0|[1-9][0-9]{0,10}) (?:RT|MT|RE)\n)*")
BLOCK_BYTES = 1 << 21  # about 75,000 lines


class HiggsImporter(Importer):
    name = "higgs"
    default_network = Network.HIGGS
    description = "Higgs Twitter activity file (userA userB unix_ts RT|MT|RE)"
    columnar = True

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
                if _CLEAN.fullmatch(chunk):
                    yield _block(chunk)
                    number += chunk.count(b"\n")
                    repeats = RepeatKeys()
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


def _block(chunk: bytes) -> EdgeBlock:
    """Columns of a block `_CLEAN` matched: every line is `a b ts XX\\n`, three spaces each."""
    raw = np.frombuffer(chunk, np.uint8)
    ends = np.flatnonzero(raw == ord("\n"))
    starts = np.concatenate([[0], ends[:-1] + 1]).astype(np.int64)
    tokens = chunk.split()
    actor = np.array(list(map(int, tokens[0::4])), np.int64)
    receiver = np.array(list(map(int, tokens[1::4])), np.int64)
    stamp = np.array(list(map(int, tokens[2::4])), np.int64)
    # RT -> 0, MT -> 1, RE -> 2, from the type's two letters at the end of the line
    kind = np.where(raw[ends - 1] == ord("E"), 2, np.where(raw[ends - 2] == ord("M"), 1, 0))
    kind = kind.astype(np.uint8)
    # The source key is the line with its three spaces made `>`, `@` and `:`.
    keys = raw.copy()
    spaces = np.flatnonzero(raw == ord(" ")).reshape(-1, 3)
    for column, mark in enumerate(b">@:"):
        keys[spaces[:, column]] = mark
    lengths = ends - starts
    # RepeatKeys restarts whenever the second changes, in file order: number within such runs.
    run = np.concatenate([[0], np.cumsum(stamp[1:] != stamp[:-1])])
    repeats = repeat_numbers(run, actor, receiver, kind)
    again = np.flatnonzero(repeats > 1)
    if len(again):  # rare: the nth identical line at one second gets "#n"
        extra = bytearray()
        starts, lengths = starts.copy(), lengths.copy()
        for i in again.tolist():
            key = keys[starts[i] : starts[i] + lengths[i]].tobytes() + b"#%d" % repeats[i]
            starts[i], lengths[i] = len(keys) + len(extra), len(key)
            extra += key
        keys = np.concatenate([keys, np.frombuffer(bytes(extra), np.uint8)])
    return EdgeBlock(actor, receiver, stamp, kind, BLOCK_KINDS, Text(keys, starts, lengths))
