"""Stack Exchange data dump: a site's `.7z` archive, or a folder of its tables.

PATH is either the site's archive as Stack Exchange publishes it (`site.stackexchange.com.7z`,
holding Users.xml, Posts.xml, Comments.xml, Votes.xml, ... at its root), or a folder holding the
tables Users/Posts/Comments/Votes as `.xml`, `.xml.xz`, `.xml.gz`, `.xml.bz2` or one `.7z` archive
per table (`Posts.7z`, or `stackoverflow.com-Posts.7z` as Stack Overflow's dump names them).

Each `<row/>` sits on its own line, so rows are parsed line by line (streamed, with line numbers,
and one malformed row does not end the import). Mapping:
- Users -> accounts (display name); Questions and answers -> posts, with the question's tags.
- An answer -> `reply` from the answerer to the asker, on the question.
- A comment -> `comment` from the commenter to the post's owner, on the post.
- An accepted answer (vote type 1) -> `like` from the asker to the answerer, on the answer, dated
  by the vote. Up/down votes are anonymous in the dump (no actor) and are not interactions:
  up-votes (vote type 2) are counted per post into the post's `anonymous_reactions` (a first
  pass over Votes before the posts are read; topic influence counts them with a neutral
  reactor weight).
Rows by deleted users (no OwnerUserId/UserId) have no account and are skipped.

A `.7z` is LZMA2 (sometimes with BCJ filters) inside 7-Zip's own container, which the standard
library cannot read; py7zr can, but cannot hand out a member as a lazy stream. So the tables needed
(only those four) are extracted into a temporary folder, which must have room for them, streamed
from there like plain `.xml`, and removed afterwards, also on errors and interrupts.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import py7zr
from py7zr.exceptions import CrcError, PasswordRequired

from networks.importers.base import Importer, ImportFormatError, Item, Progress
from networks.models import InteractionKind, Network, PostKind
from networks.records import AccountRecord, BadLine, InteractionRecord, PostRecord

TABLES = ("Users", "Posts", "Comments", "Votes")
SUFFIXES = (".xml", ".xml.xz", ".xml.gz", ".xml.bz2", ".7z")
TAG = re.compile(r"<([^>]+)>|\|([^|]+)(?=\|)")
SEVEN_ZIP = b"7z\xbc\xaf\x27\x1c"


def _when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)


def _tags(value: str) -> tuple[str, ...]:
    return tuple(a or b for a, b in TAG.findall(value))


@dataclass(frozen=True)
class _Member:
    """One table inside a .7z archive."""

    table: str
    archive: Path
    name: str  # at the archive's root
    size: int  # uncompressed bytes, as the archive lists them


def _size(n: int) -> str:
    if n < 1000:
        return f"{n} bytes"
    value, unit = n / 1000, "KB"
    for bigger in ("MB", "GB", "TB"):
        if value < 1000:
            break
        value, unit = value / 1000, bigger
    return f"{value:.1f} {unit}"


def _archive_error(archive: Path, exc: Exception) -> ImportFormatError:
    """One line for whatever py7zr raised reading ARCHIVE (it parses untrusted bytes, so a
    damaged archive can surface as any exception)."""
    if isinstance(exc, PasswordRequired):
        return _password_error(archive)
    if isinstance(exc, OSError):
        return ImportFormatError(f"{archive}: cannot extract ({exc.strerror or exc})")
    if isinstance(exc, CrcError):
        where = exc.args[2] if len(exc.args) > 2 else None  # (computed, expected, member name)
        detail = f"CRC mismatch in {where}" if where else "CRC mismatch"
    else:
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
    return ImportFormatError(f"{archive}: corrupt or truncated 7z archive ({detail})")


def _password_error(archive: Path) -> ImportFormatError:
    return ImportFormatError(
        f"{archive}: the 7z archive is password-protected; extract it with its password (7z x) "
        "and import the folder"
    )


def _is_7z(path: Path) -> bool:
    try:
        with path.open("rb") as raw:
            return raw.read(len(SEVEN_ZIP)) == SEVEN_ZIP
    except OSError as exc:
        raise ImportFormatError(f"{path}: cannot read ({exc.strerror})") from None


def _list_archive(archive: Path, tables: Iterable[str]) -> dict[str, _Member]:
    """The TABLES found as `<table>.xml` at ARCHIVE's root; ImportFormatError if it is not a
    readable, unencrypted 7z archive."""
    if not _is_7z(archive):
        raise ImportFormatError(f"{archive}: not a 7z archive")
    try:
        with py7zr.SevenZipFile(archive) as seven:
            encrypted = seven.needs_password()
            listing = seven.list()
    except Exception as exc:
        raise _archive_error(archive, exc) from None
    if encrypted:
        raise _password_error(archive)
    sizes = {
        info.filename: info.uncompressed
        for info in listing
        if not info.is_directory and not info.is_symlink
    }
    return {
        table: _Member(table, archive, f"{table}.xml", sizes[f"{table}.xml"])
        for table in tables
        if f"{table}.xml" in sizes
    }


class StackExchangeImporter(Importer):
    name = "stackexchange"
    default_network = Network.STACKEXCHANGE
    description = (
        "Stack Exchange dump: a site's .7z archive, or a folder of its Users, Posts, Comments, "
        "Votes tables (.xml[.xz|.gz|.bz2] or one .7z each)"
    )

    def files(self) -> list[Path]:
        # table -> the file it is read from; tables inside a .7z are also in `_members`
        self._tables: dict[str, Path] = {}
        self._members: dict[str, _Member] = {}
        if self.path.is_file():
            if not _is_7z(self.path):
                raise ImportFormatError(
                    f"{self.path}: not a 7z archive (give a site's .7z archive, or the folder "
                    "of the dump's tables)"
                )
            self._members = _list_archive(self.path, TABLES)
            if "Posts" not in self._members:
                raise ImportFormatError(
                    f"{self.path}: no Posts.xml at the 7z archive's root (a Stack Exchange site "
                    "archive holds Users.xml, Posts.xml, Comments.xml, Votes.xml, ...)"
                )
            self._tables = dict.fromkeys(self._members, self.path)
        elif self.path.is_dir():
            for table in TABLES:
                path = self._table(table)
                if path is None:
                    continue
                self._tables[table] = path
                if path.name.endswith(".7z"):
                    member = _list_archive(path, [table]).get(table)
                    if member is None:
                        raise ImportFormatError(f"{path}: no {table}.xml at the archive's root")
                    self._members[table] = member
            if "Posts" not in self._tables:
                archives = sorted(p.name for p in self.path.glob("*.7z"))
                hint = f" (to import {archives[0]}, give that file as PATH)" if archives else ""
                raise ImportFormatError(
                    f"{self.path}: no Posts.xml, Posts.xml.xz, .gz, .bz2 or Posts.7z{hint}"
                )
        else:
            raise ImportFormatError(
                f"{self.path}: no such file or folder (expected a site's .7z archive or the "
                "dump's folder)"
            )
        self._check_room(tempfile.gettempdir())
        return list(dict.fromkeys(self._tables.values()))

    def _table(self, name: str) -> Path | None:
        for suffix in SUFFIXES:
            candidate = self.path / f"{name}{suffix}"
            if candidate.exists():
                return candidate
        # Stack Overflow's own dump is one archive per table, named after the site.
        found = sorted(self.path.glob(f"*-{name}.7z"))
        if len(found) > 1:
            names = ", ".join(p.name for p in found)
            raise ImportFormatError(
                f"{self.path}: several {name} archives ({names}); keep one site per folder"
            )
        return found[0] if found else None

    def _check_room(self, folder: str | Path) -> None:
        """ImportFormatError unless FOLDER has room to extract the tables held in .7z archives."""
        if not self._members:
            return
        need = sum(member.size for member in self._members.values())
        free = shutil.disk_usage(folder).free
        if need > free:
            names = ", ".join(member.name for member in self._members.values())
            raise ImportFormatError(
                f"{self.path}: extracting {names} needs {_size(need)} in {folder}, which has "
                f"{_size(free)} free; point TMPDIR at a larger disk or extract the archive there"
            )

    def _extract(self, into: Path) -> dict[str, Path]:
        """Extract the tables held in .7z archives into INTO; table -> the file to read.
        (`files` checked the room when this importer was made: at start_import, at run_import.)"""
        tables = dict(self._tables)
        by_archive: dict[Path, list[_Member]] = {}
        for member in self._members.values():
            by_archive.setdefault(member.archive, []).append(member)
        for index, (archive, members) in enumerate(by_archive.items()):
            folder = into / str(index)
            try:
                # One pass per archive: a solid archive decompresses its block once for all.
                with py7zr.SevenZipFile(archive) as seven:
                    seven.extract(path=folder, targets=[member.name for member in members])
            except Exception as exc:
                raise _archive_error(archive, exc) from None
            for member in members:
                path = folder / member.name
                if not path.is_file():
                    raise ImportFormatError(f"{archive}: {member.name} could not be extracted")
                tables[member.table] = path
        return tables

    def _rows(
        self, tables: dict[str, Path], name: str
    ) -> Iterator[tuple[int, dict[str, str] | BadLine]]:
        path = tables.get(name)
        if path is None:
            return
        with self.open_text(path) as stream:
            for number, line in enumerate(stream, 1):
                text = line.strip()
                if not text.startswith("<row"):
                    continue
                try:
                    yield number, dict(ET.fromstring(text).attrib)
                except ET.ParseError as exc:
                    yield number, BadLine(number, f"{path.name}: {exc}")
            self.progress.finish_file()
        if name in self._members:
            path.unlink(missing_ok=True)  # its room back while the other tables are read

    def _up_votes(self, tables: dict[str, Path]) -> dict[str, int]:
        """Up-votes per post id, from a first pass over Votes (not counted as progress: the
        accepts pass reads the table again, and reports its malformed rows)."""
        counts: dict[str, int] = {}
        path = tables.get("Votes")
        if path is None:
            return counts
        with self.open_text(path) as stream:
            for line in stream:
                if "VoteTypeId" not in line:
                    continue
                try:
                    row = ET.fromstring(line.strip()).attrib
                except ET.ParseError:
                    continue
                post = row.get("PostId")
                if post and row.get("VoteTypeId") == "2":
                    counts[post] = counts.get(post, 0) + 1
        self.progress.forget_file()
        return counts

    def parse(self) -> Iterator[Item]:
        if not self._members:
            yield from self._parse(self._tables)
            return
        with tempfile.TemporaryDirectory(
            prefix="klout-stackexchange-", ignore_cleanup_errors=True
        ) as folder:
            tables = self._extract(Path(folder))
            # Progress counts the extracted tables' bytes, not the archive's: extraction ends
            # before the first row is parsed, so archive bytes would all be read before any batch
            # is reported (the bar would sit at 100% for the whole import), while reading the
            # extracted tables is where the import spends its time, batch by batch.
            self.progress = Progress(list(dict.fromkeys(tables.values())))
            yield from self._parse(tables)

    def _parse(self, tables: dict[str, Path]) -> Iterator[Item]:
        # post id -> (owner, question id for answers); small next to the dump itself.
        owners: dict[str, tuple[str, str | None]] = {}
        question_tags: dict[str, tuple[str, ...]] = {}
        for _n, row in self._rows(tables, "Users"):
            if isinstance(row, BadLine):
                yield row
            elif row.get("Id", "").lstrip("-").isdigit():
                yield AccountRecord(row["Id"], display_name=row.get("DisplayName", "")[:255])
        up_votes = self._up_votes(tables)
        for number, row in self._rows(tables, "Posts"):
            if isinstance(row, BadLine):
                yield row
                continue
            kind, owner = row.get("PostTypeId"), row.get("OwnerUserId")
            if kind not in ("1", "2") or not owner:
                continue
            try:
                when = _when(row["CreationDate"])
                post_id = row["Id"]
            except (KeyError, ValueError):
                yield BadLine(number, "Posts.xml: a row without Id or CreationDate")
                continue
            parent = row.get("ParentId") if kind == "2" else None
            owners[post_id] = (owner, parent)
            tags = _tags(row.get("Tags", ""))
            if kind == "1":
                question_tags[post_id] = tags
            elif parent:
                # an answer is about its question's topics (answers carry no tags in the dump)
                tags = question_tags.get(parent, ())
            yield PostRecord(
                external_id=post_id,
                account=owner,
                posted_at=when,
                text=row.get("Title", "")[:500],
                kind=PostKind.ORIGINAL if kind == "1" else PostKind.REPLY,
                tags=tags,
                anonymous_reactions=up_votes.get(post_id, 0),
            )
            if parent and parent in owners:
                yield InteractionRecord(
                    owner,
                    owners[parent][0],
                    InteractionKind.REPLY,
                    when,
                    f"answer:{post_id}",
                    parent,
                )
        for number, row in self._rows(tables, "Comments"):
            if isinstance(row, BadLine):
                yield row
                continue
            target, actor = owners.get(row.get("PostId", "")), row.get("UserId")
            if target is None or not actor:
                continue
            try:
                when = _when(row["CreationDate"])
            except (KeyError, ValueError):
                yield BadLine(number, "Comments.xml: a row without CreationDate")
                continue
            yield InteractionRecord(
                actor,
                target[0],
                InteractionKind.COMMENT,
                when,
                f"comment:{row['Id']}",
                row["PostId"],
            )
        for number, row in self._rows(tables, "Votes"):
            if isinstance(row, BadLine):
                yield row
                continue
            if row.get("VoteTypeId") != "1":
                continue
            answer = owners.get(row.get("PostId", ""))
            if answer is None or answer[1] is None or answer[1] not in owners:
                continue
            try:
                when = _when(row["CreationDate"])
            except (KeyError, ValueError):
                yield BadLine(number, "Votes.xml: a row without CreationDate")
                continue
            asker = owners[answer[1]][0]
            yield InteractionRecord(
                asker, answer[0], InteractionKind.LIKE, when, f"accept:{row['Id']}", row["PostId"]
            )
