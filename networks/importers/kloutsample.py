"""Klout's "when to post" sample: author, reactor, post, post time, action time (ms), time zone.

PATH is one of the TSV files or the folder holding both. `_fb` rows are comments, `_tw` rows
retweets (shares); ids are prefixed `fb:`/`tw:` because the two networks' fingerprints are apart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from networks.importers.base import Importer, ImportFormatError, Item
from networks.models import InteractionKind, Network
from networks.records import BadLine, InteractionRecord, PostRecord


def _ms(value: str) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(value) / 1000, dt.UTC)


class KloutSampleImporter(Importer):
    name = "kloutsample"
    default_network = Network.KLOUT_SAMPLE
    description = "Klout when-to-post sample TSV (file or folder with _fb and _tw files)"

    def files(self) -> list[Path]:
        if self.path.is_dir():
            found = sorted(self.path.glob("user_timestamp_*_??.tsv"))
            if not found:
                raise ImportFormatError(f"{self.path}: no user_timestamp_*_fb/_tw.tsv files")
            return found
        return super().files()

    def parse(self) -> Iterator[Item]:
        for path in self.files():
            side = "fb" if "_fb" in path.name else "tw"
            kind = InteractionKind.COMMENT if side == "fb" else InteractionKind.SHARE
            with self.open_text(path) as stream:
                for number, line in enumerate(stream, 1):
                    if line.startswith("#") or not line.strip():
                        continue
                    parts = line.rstrip("\r\n").split("\t")
                    if len(parts) < 5:
                        yield BadLine(number, f"{path.name}: expected 6 tab-separated fields")
                        continue
                    author, actor, post = (f"{side}:{p}" for p in parts[:3])
                    try:
                        posted, acted = _ms(parts[3]), _ms(parts[4])
                    except (ValueError, OverflowError, OSError):
                        yield BadLine(number, f"{path.name}: timestamps must be Unix ms")
                        continue
                    yield PostRecord(external_id=post, account=author, posted_at=posted)
                    yield InteractionRecord(
                        actor, author, str(kind), acted, f"{post}:{actor}:{parts[4]}", post=post
                    )
