"""What every importer shares: opening (compressed) files as streams, progress, repeat keys.

Formats that can also be read as columns (bulk edge lists) extend `networks.importers.columnar`.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, ClassVar

import ijson

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

    def forget_file(self) -> None:
        """Drop the current file uncounted: a first pass over a file that is read again later."""
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


# Limits for one element of an uploaded JSON array: deeper or bigger is not an activity or a
# tweet but a hostile file, refused with the same format error as any other malformed file.
MAX_JSON_DEPTH = 64
MAX_ITEM_EVENTS = 200_000  # keys, values and brackets in one element
# Bytes one element (or one value outside the array) may span. ijson, like every incremental
# parser we tried, re-scans a token that spans reads, so a single huge string costs time
# quadratic in its length; bounding the element bounds that cost and keeps the whole parse
# linear in the file (at most MAX_ITEM_BYTES / READ_BYTES scans of each byte).
MAX_ITEM_BYTES = 2 * 1024 * 1024
READ_BYTES = 256 * 1024


class _Source:
    """The bytes ijson reads: `head` first, then the stream; refuses to read far past `limit`."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self.head = head
        self.stream = stream
        self.position = 0
        self.limit: int | None = None
        self.item = 0

    def bound(self, item: int) -> None:
        """From here on, one element (number `item`, 0 outside the array) has MAX_ITEM_BYTES."""
        self.item = item
        self.limit = self.position + MAX_ITEM_BYTES + READ_BYTES

    def read(self, size: int = -1) -> bytes:
        if self.limit is not None and self.position > self.limit:
            what = f"item {self.item}" if self.item else "a value outside the array"
            raise ImportFormatError(
                f"{what} is too large (more than {MAX_ITEM_BYTES // (1024 * 1024)} MB)"
            )
        if self.head:
            data, self.head = (self.head, b"") if size < 0 else (self.head[:size], self.head[size:])
        else:
            data = self.stream.read(size)
        self.position += len(data)
        return data


def iter_json_array(
    stream: IO[bytes], *, key: str | None = None, skip_to_bracket: bool = False
) -> Iterator[object]:
    """Stream the elements of the top-level JSON array (or of the array under the top-level
    object's `key`), one element at a time, in time linear in the input.

    ijson's C parser turns the bytes into events; elements are built here with an explicit
    stack, so nesting never recurses. An element deeper than MAX_JSON_DEPTH, with more than
    MAX_ITEM_EVENTS parts or longer than MAX_ITEM_BYTES is an ImportFormatError like any other
    malformed file. `skip_to_bracket` drops whatever precedes the first "[" (tweets.js's
    `window.YTD.tweets.part0 =`); a UTF-8 byte order mark is skipped.
    """
    head = stream.read(READ_BYTES).removeprefix(b"\xef\xbb\xbf")
    if skip_to_bracket:
        while b"[" not in head:
            chunk = stream.read(READ_BYTES)
            if not chunk:
                raise ImportFormatError("no JSON array found")
            head += chunk
        head = head[head.index(b"[") :]
    source = _Source(head, stream)
    source.bound(0)
    events = ijson.basic_parse(source, use_float=True, buf_size=READ_BYTES)
    try:
        yield from _array_elements(events, key, source)
    except ijson.JSONError:
        raise ImportFormatError("the JSON array ends early or is malformed") from None


def _array_elements(
    events: Iterator[tuple[str, Any]], key: str | None, source: _Source
) -> Iterator[object]:
    where = f" under {key!r}" if key else ""
    event, _value = next(events, ("", None))
    if key is not None:
        if event != "start_map":
            raise ImportFormatError(f"no JSON array found{where}")
        depth = 1
        found = False
        for event, value in events:
            if depth == 1:
                source.bound(0)
                if event == "map_key" and value == key:
                    found = True
                    event, value = next(events, ("", None))
                    break
            if event in ("start_map", "start_array"):
                depth += 1
            elif event in ("end_map", "end_array"):
                depth -= 1
        if not found:
            raise ImportFormatError(f"no JSON array found{where}")
    if event != "start_array":
        raise ImportFormatError(f"no JSON array found{where}")
    source.bound(1)
    for number, (event, value) in enumerate(events, 1):
        if event == "end_array":
            return
        yield _element(event, value, events, number)
        source.bound(number + 1)
    raise ImportFormatError("the JSON array ends early or is malformed")


def _element(event: str, value: Any, events: Iterator[tuple[str, Any]], number: int) -> object:
    """One array element from its first event on, built without recursion and within limits."""
    if event == "start_map":
        root: Any = {}
    elif event == "start_array":
        root = []
    else:
        return value
    stack: list[Any] = [root]
    keys: list[Any] = [None]
    parts = 0
    for event, value in events:
        parts += 1
        if parts > MAX_ITEM_EVENTS:
            raise ImportFormatError(
                f"item {number} is too large (more than {MAX_ITEM_EVENTS:,} parts)"
            )
        if event == "map_key":
            keys[-1] = value
            continue
        if event == "end_map" or event == "end_array":
            stack.pop()
            keys.pop()
            if not stack:
                return root
            continue
        if event == "start_map":
            new: Any = {}
        elif event == "start_array":
            new = []
        else:
            new = value
        parent = stack[-1]
        if type(parent) is list:
            parent.append(new)
        else:
            parent[keys[-1]] = new
        if event == "start_map" or event == "start_array":
            if len(stack) >= MAX_JSON_DEPTH:
                raise ImportFormatError(
                    f"item {number} is nested too deeply (more than {MAX_JSON_DEPTH} levels)"
                )
            stack.append(new)
            keys.append(None)
    raise ImportFormatError("the JSON array ends early or is malformed")
