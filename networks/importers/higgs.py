"""Higgs Twitter activity (SNAP): `userA userB unix_ts RT|MT|RE`, actor first.

Source key: the line itself (`a>b@ts:TYPE`). The same (a, b, ts) under two types is two typed
events (a reply is also recorded as a mention) and both are kept; scoring may merge them. An
identical line repeated at the same second is kept as another event (`#2`, see RepeatKeys).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from networks.importers.base import Importer, Item, RepeatKeys
from networks.models import InteractionKind, Network
from networks.records import BadLine, InteractionRecord

KINDS = {"RT": InteractionKind.SHARE, "MT": InteractionKind.MENTION, "RE": InteractionKind.REPLY}


class HiggsImporter(Importer):
    name = "higgs"
    default_network = Network.HIGGS
    description = "Higgs Twitter activity file (userA userB unix_ts RT|MT|RE)"

    def parse(self) -> Iterator[Item]:
        repeats = RepeatKeys()
        utc = dt.UTC
        kinds = {k: str(v) for k, v in KINDS.items()}
        # The file is in time order: one datetime per distinct second, not one per line.
        last_stamp, when = "", dt.datetime.fromtimestamp(0, utc)
        with self.open_text(self.path) as stream:
            for number, line in enumerate(stream, 1):
                parts = line.split()
                if not parts:
                    continue
                if len(parts) != 4 or parts[3] not in kinds or not parts[2].isdigit():
                    yield BadLine(number, f"expected 'userA userB unix_ts RT|MT|RE': {line[:80]!r}")
                    continue
                actor, receiver, stamp, kind = parts
                if stamp != last_stamp:
                    last_stamp, when = stamp, dt.datetime.fromtimestamp(int(stamp), utc)
                yield InteractionRecord(
                    actor,
                    receiver,
                    kinds[kind],
                    when,
                    repeats.key(f"{actor}>{receiver}@{stamp}:{kind}", stamp),
                )
