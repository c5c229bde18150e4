"""A personal X/Twitter archive's `data/tweets.js` ("download your archive").

The file is `window.YTD.tweets.part0 = [ {"tweet": {...}}, ... ]`; the array is streamed element by
element. Everything in it was done by the archive owner (`--account`, their numeric user id):
- an original tweet -> a post;
- a retweet ("RT @name: ...") -> `share` to the retweeted account (the first mention);
- a reply -> `reply` to `in_reply_to_user_id_str`, on that tweet;
- a quote (a link to another account's status, that account also mentioned) -> `quote`;
- every other mention -> `mention`.
Replies and quotes are also posts of the owner. Items are numbered from 1 in error reports.
The archive speaks only for its owner: the screen names it mentions never rename other accounts
(names come from the network's API or an operator's dataset import).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
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

STATUS_URL = re.compile(r"https?://(?:www\.)?(?:twitter|x)\.com/([A-Za-z0-9_]+)/status/(\d+)")


def _when(value: str) -> dt.datetime:
    # Archive dates look like "Wed Oct 10 20:19:24 +0000 2018".
    parts = value.split()
    if len(parts) == 6:
        value = f"{parts[0]}, {parts[2]} {parts[1]} {parts[5]} {parts[3]} {parts[4]}"
    return parsedate_to_datetime(value).astimezone(dt.UTC)


class XArchiveImporter(Importer):
    name = "x_archive"
    default_network = Network.X
    description = "X/Twitter archive data/tweets.js (needs --account, the owner's user id)"

    def __init__(self, path: Path, options: ImportOptions) -> None:
        super().__init__(path, options)
        if not options.account:
            raise ImportFormatError("x_archive needs --account: the archive owner's X user id")
        self.owner = options.account

    def parse(self) -> Iterator[Item]:
        with self.open_binary(self.path) as stream:
            head = stream.read(64).lstrip()
            if not head.startswith(b"window.YTD.") and not head.startswith(b"["):
                raise ImportFormatError(
                    f"{self.path.name}: not an archive tweets.js (expected 'window.YTD.tweets')"
                )
            stream.seek(0)
            elements = iter_json_array(stream, skip_to_bracket=True)
            for number, element in enumerate(elements, 1):
                tweet = element.get("tweet", element) if isinstance(element, dict) else None
                if not isinstance(tweet, dict):
                    yield BadLine(number, "item is not a tweet object")
                    continue
                try:
                    yield from self._tweet(tweet)
                except (KeyError, ValueError, TypeError) as exc:
                    yield BadLine(number, f"tweet without a valid {exc}")

    def _tweet(self, tweet: dict[str, Any]) -> Iterator[Item]:
        tweet_id = str(tweet["id_str"])
        when = _when(tweet["created_at"])
        text = str(tweet.get("full_text") or tweet.get("text") or "")
        mentions = [
            m for m in tweet.get("entities", {}).get("user_mentions", []) if m.get("id_str")
        ]
        for m in mentions:
            yield AccountRecord(str(m["id_str"]))
        owner = self.owner
        handled: set[str] = set()
        if text.startswith("RT @") and mentions:
            target = str(mentions[0]["id_str"])
            yield InteractionRecord(
                owner, target, InteractionKind.SHARE, when, f"tweet:{tweet_id}:share"
            )
            return
        reply_to = tweet.get("in_reply_to_user_id_str")
        kind = PostKind.REPLY if reply_to else PostKind.ORIGINAL
        by_name = {m.get("screen_name", "").lower(): str(m["id_str"]) for m in mentions}
        quoted = None
        for url in tweet.get("entities", {}).get("urls", []):
            match = STATUS_URL.match(url.get("expanded_url", ""))
            if match and match.group(1).lower() in by_name:
                quoted = by_name[match.group(1).lower()]
                kind = PostKind.QUOTE if not reply_to else kind
        yield PostRecord(tweet_id, owner, when, text, kind)
        if reply_to:
            reply_to = str(reply_to)
            handled.add(reply_to)
            yield InteractionRecord(
                owner, reply_to, InteractionKind.REPLY, when, f"tweet:{tweet_id}:reply"
            )
        if quoted and quoted not in handled:
            handled.add(quoted)
            yield InteractionRecord(
                owner, quoted, InteractionKind.QUOTE, when, f"tweet:{tweet_id}:quote"
            )
        for target in by_name.values():
            if target not in handled and target != owner:
                handled.add(target)
                yield InteractionRecord(
                    owner,
                    target,
                    InteractionKind.MENTION,
                    when,
                    f"tweet:{tweet_id}:mention:{target}",
                )
