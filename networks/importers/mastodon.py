"""A Mastodon export's `outbox.json` (ActivityPub OrderedCollection, streamed item by item).

An upload speaks only for its uploader: the owner is the account the upload was made for
(`--account`, the actor URI that is a Mastodon account's external id), or, when none is given, the
first activity's `actor`. An activity by any other actor is rejected as a bad line, so a forged
outbox cannot store interactions between other accounts. Names and handles of other accounts are
never taken from an upload (they come from the network's API or an operator's dataset import).

Each activity maps as follows:
- `Create` of a `Note` -> a post (tags: its hashtags); `inReplyTo` -> `reply` to that status's
  author; each `Mention` tag -> `mention`.
- `Announce` (a boost) -> `share` to the boosted status's author.
A status's author is its URI up to `/statuses/` (`https://host/users/name/statuses/1` ->
`https://host/users/name`), the URI form Mastodon uses for actors. Items are numbered from 1.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from networks.importers.base import (
    Importer,
    ImportFormatError,
    ImportOptions,
    Item,
    iter_json_array,
)
from networks.models import InteractionKind, Network, PostKind
from networks.records import AccountRecord, BadLine, InteractionRecord, PostRecord


def _author(status_uri: str) -> str | None:
    head, sep, _ = status_uri.partition("/statuses/")
    return head if sep else None


def _when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)


class MastodonImporter(Importer):
    name = "mastodon"
    default_network = Network.MASTODON
    description = "Mastodon export outbox.json (ActivityPub Create/Announce)"

    def __init__(self, path: Path, options: ImportOptions) -> None:
        super().__init__(path, options)
        self.owner: str | None = options.account or None

    def parse(self) -> Iterator[Item]:
        with self.open_binary(self.path) as stream:
            head = stream.read(4096)
            if b"OrderedCollection" not in head and b"orderedItems" not in head:
                raise ImportFormatError(f"{self.path.name}: not an ActivityPub outbox.json")
            stream.seek(0)
            for number, activity in enumerate(iter_json_array(stream, key="orderedItems"), 1):
                if not isinstance(activity, dict):
                    yield BadLine(number, "item is not an activity object")
                    continue
                actor = activity.get("actor")
                if self.owner is None and isinstance(actor, str):
                    self.owner = actor
                if actor != self.owner:
                    yield BadLine(number, "activity by another account than the outbox's owner")
                    continue
                try:
                    yield from self._activity(activity)
                except (KeyError, ValueError, TypeError, AttributeError) as exc:
                    yield BadLine(number, f"activity without a valid {exc}")

    def _activity(self, activity: dict[str, Any]) -> Iterator[Item]:
        kind = activity.get("type")
        actor = str(activity["actor"])
        when = _when(activity["published"])
        if kind == "Announce":
            target = activity["object"]
            target = target["id"] if isinstance(target, dict) else str(target)
            author = _author(target)
            if author:
                yield AccountRecord(author)
                yield InteractionRecord(
                    actor, author, InteractionKind.SHARE, when, f"{activity['id']}:share"
                )
            return
        if kind != "Create":
            return
        note = activity["object"]
        if not isinstance(note, dict) or note.get("type") != "Note":
            return
        note_id = str(note["id"])
        reply_to = note.get("inReplyTo")
        tags = note.get("tag") or []
        yield PostRecord(
            note_id,
            actor,
            when,
            str(note.get("content", ""))[:5000],
            PostKind.REPLY if reply_to else PostKind.ORIGINAL,
            tuple(str(t["name"]).lstrip("#") for t in tags if t.get("type") == "Hashtag"),
        )
        replied = _author(str(reply_to)) if reply_to else None
        if replied:
            yield AccountRecord(replied)
            yield InteractionRecord(actor, replied, InteractionKind.REPLY, when, f"{note_id}:reply")
        for tag in tags:
            href = tag.get("href")
            if tag.get("type") == "Mention" and href and href != replied and href != actor:
                yield AccountRecord(str(href))
                yield InteractionRecord(
                    actor, str(href), InteractionKind.MENTION, when, f"{note_id}:mention:{href}"
                )
