"""What every importer shares: opening (compressed) files as streams, progress, repeat keys.

Formats that can also be read as columns (bulk edge lists) extend `networks.importers.columnar`.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, ClassVar

from networks.records import AccountRecord, BadLine, InteractionRecord, PostRecord

Item = AccountRecord | PostRecord | InteractionRecord | BadLine


class ImportFormatError(Exception):
    """The file is unreadable or is not in the importer's format: one clear line for the user."""


@dataclass(frozen=True)
class ImportOptions:
    """What the command line (or the upload page) chose."""

    network: str
    kind: str | None = None
    account: str | None = None  # the archive owner's external id (personal archives)


class Progress:
    """Fraction of the input bytes read so far, across all of an importer's files."""

    def __init__(self, files: list[Path]) -> None:
        self.total = sum(f.stat().st_size for f in files) or 1
        self.done = 0
        self.current: IO[bytes] | None = None
        self.current_size = 0  # sized when opened: a plain file closes with its text stream

    def start_file(self, raw: IO[bytes]) -> None:
        """Account the previous file as read and follow this one (open, raw bytes)."""
        self.finish_file()
        self.current = raw
        self.current_size = os.fstat(raw.fileno()).st_size

    def fraction(self) -> float:
        """How far through the input we are, 0..1."""
        position = 0
        if self.current is not None and not self.current.closed:
            position = self.current.tell()
        return min(1.0, (self.done + position) / self.total)

    def finish_file(self) -> None:
        """Account the current file as fully read."""
        if self.current is not None:
            self.done += self.current_size
            self.current = None


class Importer:
    """A parser for one file format: yields records and bad lines, never touches the database."""

    name: ClassVar[str]
    default_network: ClassVar[str]
    description: ClassVar[str]

    def __init__(self, path: Path, options: ImportOptions) -> None:
        self.path = path
        self.options = options
        self.progress = Progress(self.files())

    def files(self) -> list[Path]:
        """The files this import reads (checked readable before anything is parsed)."""
        if not self.path.is_file():
            raise ImportFormatError(f"{self.path}: no such file")
        return [self.path]

    def parse(self) -> Iterator[Item]:
        """Yield records in file order; malformed input becomes BadLine, never an exception."""
        raise NotImplementedError

    def open_text(self, path: Path) -> IO[str]:
        """Open plain, gzip, xz or bz2 text by its magic bytes, counting raw bytes for progress."""
        return io.TextIOWrapper(
            self.open_binary(path), encoding="utf-8", errors="replace", newline=""
        )

    def open_binary(self, path: Path) -> IO[bytes]:
        """The decompressed bytes of a plain, gzip, xz or bz2 file, counting raw bytes for
        progress."""
        try:
            raw = path.open("rb")
        except OSError as exc:
            raise ImportFormatError(f"{path}: cannot read ({exc.strerror})") from None
        self.progress.start_file(raw)
        head = raw.read(6)
        raw.seek(0)
        stream: Any
        if head.startswith(b"\x1f\x8b"):
            stream = gzip.GzipFile(fileobj=raw)
        elif head.startswith(b"\xfd7zXZ"):
            stream = lzma.LZMAFile(raw)  # noqa: SIM115
        elif head.startswith(b"BZh"):
            stream = bz2.BZ2File(raw)
        elif head.startswith(b"7z\xbc\xaf"):
            raise ImportFormatError(
                f"{path}: a .7z archive; extract it first (7z x) or recompress with xz (only the "
                "stackexchange importer reads .7z dumps as they are)"
            )
        else:
            stream = raw
        return stream


class RepeatKeys:
    """Makes identical events within the same second distinct and stable across re-imports.

    The nth identical line at one timestamp gets the suffix "#n" (the first none), so importing the
    same file again produces the same keys and inserts nothing, while real repeats are kept.
    """

    def __init__(self) -> None:
        self.stamp: object = None
        self.seen: dict[str, int] = {}

    def key(self, base: str, stamp: object) -> str:
        """The source key for this occurrence of `base` at `stamp`."""
        if stamp != self.stamp:
            self.stamp, self.seen = stamp, {}
        n = self.seen.get(base, 0) + 1
        self.seen[base] = n
        return base if n == 1 else f"{base}#{n}"


def iter_json_array(stream: IO[str], *, after: str | None = None) -> Iterator[object]:
    """Stream the elements of the first JSON array (after the text `after`) without loading it."""
    decoder = json.JSONDecoder()
    buffer = ""
    started = False
    eof = False

    def fill() -> bool:
        nonlocal buffer, eof
        chunk = stream.read(1 << 16)
        if not chunk:
            eof = True
            return False
        buffer += chunk
        return True

    while not started:
        anchor = buffer.find(after) if after else 0
        if anchor >= 0:
            bracket = buffer.find("[", anchor + (len(after) if after else 0))
            if bracket >= 0:
                buffer = buffer[bracket + 1 :]
                started = True
                break
        if not fill():
            raise ImportFormatError("no JSON array found" + (f" after {after!r}" if after else ""))
    while True:
        buffer = buffer.lstrip(" \t\r\n,")
        if buffer.startswith("]"):
            return
        try:
            value, end = decoder.raw_decode(buffer)
        except json.JSONDecodeError:
            if eof:
                raise ImportFormatError("the JSON array ends early or is malformed") from None
            fill()
            continue
        if end == len(buffer) and not eof:
            # A number or a literal may continue in the next chunk.
            fill()
            continue
        buffer = buffer[end:]
        yield value
