"""Stack Exchange data dump (a site's folder of Users/Posts/Comments/Votes .xml, .xml.xz or .gz).

Each `<row/>` sits on its own line, so rows are parsed line by line (streamed, with line numbers,
and one malformed row does not end the import). Mapping:
- Users -> accounts (display name); Questions and answers -> posts, with the question's tags.
- An answer -> `reply` from the answerer to the asker, on the question.
- A comment -> `comment` from the commenter to the post's owner, on the post.
- An accepted answer (vote type 1) -> `like` from the asker to the answerer, on the answer, dated
  by the vote. Up/down votes are anonymous in the dump (no actor) and are not interactions.
Rows by deleted users (no OwnerUserId/UserId) have no account and are skipped.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from networks.importers.base import Importer, ImportFormatError, Item
from networks.models import InteractionKind, Network, PostKind
from networks.records import AccountRecord, BadLine, InteractionRecord, PostRecord

TABLES = ("Users", "Posts", "Comments", "Votes")
TAG = re.compile(r"<([^>]+)>|\|([^|]+)(?=\|)")


def _when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)


def _tags(value: str) -> tuple[str, ...]:
    return tuple(a or b for a, b in TAG.findall(value))


class StackExchangeImporter(Importer):
    name = "stackexchange"
    default_network = Network.STACKEXCHANGE
    description = "Stack Exchange dump folder (Users, Posts, Comments, Votes .xml[.xz|.gz])"

    def files(self) -> list[Path]:
        if not self.path.is_dir():
            raise ImportFormatError(f"{self.path}: expected the dump's folder (Posts.xml.xz, ...)")
        found = [self._table(name) for name in TABLES]
        if found[1] is None:
            raise ImportFormatError(f"{self.path}: no Posts.xml, Posts.xml.xz or Posts.xml.gz")
        return [f for f in found if f is not None]

    def _table(self, name: str) -> Path | None:
        for suffix in (".xml", ".xml.xz", ".xml.gz", ".xml.bz2", ".7z"):
            candidate = self.path / f"{name}{suffix}"
            if candidate.exists():
                return candidate
        return None

    def _rows(self, name: str) -> Iterator[tuple[int, dict[str, str] | BadLine]]:
        path = self._table(name)
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

    def parse(self) -> Iterator[Item]:
        # post id -> (owner, question id for answers); small next to the dump itself.
        owners: dict[str, tuple[str, str | None]] = {}
        for _n, row in self._rows("Users"):
            if isinstance(row, BadLine):
                yield row
            elif row.get("Id", "").lstrip("-").isdigit():
                yield AccountRecord(row["Id"], display_name=row.get("DisplayName", "")[:255])
        for number, row in self._rows("Posts"):
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
            yield PostRecord(
                external_id=post_id,
                account=owner,
                posted_at=when,
                text=row.get("Title", "")[:500],
                kind=PostKind.ORIGINAL if kind == "1" else PostKind.REPLY,
                tags=_tags(row.get("Tags", "")),
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
        for number, row in self._rows("Comments"):
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
        for number, row in self._rows("Votes"):
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
