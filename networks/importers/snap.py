"""SNAP temporal edge lists: `src dst [weight] unix_ts` (gz or plain; `#`/`%` lines are comments).

The kind comes from `--kind` (default: message), the network from `--network` (default: CollegeMsg).
Identical lines at the same second are distinct events (CollegeMsg has 36 such repeats).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from networks.importers.base import Importer, ImportFormatError, ImportOptions, Item, RepeatKeys
from networks.models import InteractionKind, Network
from networks.records import BadLine, InteractionRecord


class SnapImporter(Importer):
    name = "snap"
    default_network = Network.COLLEGEMSG
    description = "SNAP temporal edge list (src dst [weight] unix_ts)"

    def __init__(self, path: Path, options: ImportOptions) -> None:
        super().__init__(path, options)
        kind = options.kind or InteractionKind.MESSAGE
        if kind not in InteractionKind.values:
            raise ImportFormatError(
                f"--kind {kind!r} is not one of {', '.join(InteractionKind.values)}"
            )
        self.kind = str(kind)

    def parse(self) -> Iterator[Item]:
        repeats = RepeatKeys()
        utc = dt.UTC
        kind = self.kind
        with self.open_text(self.path) as stream:
            for number, line in enumerate(stream, 1):
                if line.startswith(("#", "%")):
                    continue
                parts = line.split()
                if not parts:
                    continue
                if len(parts) not in (3, 4):
                    yield BadLine(number, f"expected 'src dst [weight] unix_ts': {line[:80]!r}")
                    continue
                src, dst, stamp = parts[0], parts[1], parts[-1]
                try:
                    when = dt.datetime.fromtimestamp(float(stamp), utc)
                except (ValueError, OverflowError, OSError):
                    yield BadLine(number, f"timestamp {stamp[:30]!r} is not a Unix time")
                    continue
                yield InteractionRecord(
                    src, dst, kind, when, repeats.key(f"{src}>{dst}@{stamp}:{kind}", stamp)
                )
