"""Importers whose files can also be read as columnar blocks (bulk numeric edge lists).

On PostgreSQL an import reads such a file with `parse_columnar`: blocks of clean lines as numpy
columns (`networks.edges.EdgeBlock`), which the import session stores by binary COPY, and, for
irregular stretches, what `parse` yields. Everything else reads records through `parse`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, ClassVar

from networks.edges import EdgeBlock
from networks.importers.base import Importer, Item


class ColumnarImporter(Importer):
    """An importer that can also yield its file as EdgeBlocks."""

    # whether imports read columns where they can (tests switch it off to compare the two ways)
    columnar: ClassVar[bool] = True

    def parse_columnar(self) -> Iterator[EdgeBlock | Item]:
        """The file as columnar blocks, and what `parse` yields for stretches that are not."""
        raise NotImplementedError


def aligned_chunks(stream: IO[bytes], size: int, *, stamp_field: int) -> Iterator[bytes]:
    """Blocks of about `size` bytes of whole lines, each cut where the timestamp (whitespace field
    `stamp_field`) changes: the trailing lines that share the last line's timestamp move on to the
    next block. Where a block is cut changes no key: readers carry repeat numbering across."""
    rest = b""
    while True:
        data = stream.read(size)
        if not data:
            if rest:
                yield rest
            return
        data = rest + data
        cut = _run_start(data, data.rfind(b"\n") + 1, stamp_field)
        if cut == 0:  # no newline yet, or one second fills the block: read on
            rest = data
            continue
        yield data[:cut]
        rest = data[cut:]


def _run_start(data: bytes, end: int, field: int) -> int:
    """Where the run of lines ending at `end` that share the last line's field `field` starts."""
    if end == 0:
        return 0
    start = data.rfind(b"\n", 0, end - 1) + 1
    parts = data[start : end - 1].split()
    if len(parts) <= field:
        return end
    stamp = parts[field]
    while start > 0:
        previous = data.rfind(b"\n", 0, start - 1) + 1
        parts = data[previous : start - 1].split()
        if len(parts) <= field or parts[field] != stamp:
            break
        start = previous
    return start
