"""Bluesky (AT Protocol): listNotifications pages, newest first, back to the cursor.

app.bsky.notification.listNotifications takes `limit` (1-100) and `cursor`, and returns
`{"notifications": [...], "cursor": "..."}`; each notification has `uri`, `cid`, `author`
(a profile view with `did`, `handle`, `displayName`), `reason`, `record`, `isRead` and `indexedAt`
(the lexicon, as generated in atrium-api `app/bsky/notification/list_notifications.rs`). The
cursor we keep is the newest `indexedAt` seen; the API's own cursor pages backwards and is the
resume position when the page budget runs out.

Own posts: app.bsky.feed.getAuthorFeed (`actor`, `limit` 1-100, `cursor`, `filter`; pins only when
`includePins` is asked for) returns `{"feed": [{"post": PostView, "reason"?}], "cursor"?}`, newest
first. An item with a `reason` is a repost (app.bsky.feed.defs#reasonRepost) of someone else's post
and is skipped, as is any post whose author is not the account. A post is stored under its at-uri
with its hashtags: the record's rich-text facets of type `app.bsky.richtext.facet#tag` and its
`tags` array (hashtags not in the text). A like or repost notification names the post it reacts to
in `reasonSubject`; a reply names its parent in `record.reply.parent.uri` and a quote the quoted
post in its record embed: when that post is the account's own, the reaction is linked to it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from networks.models import InteractionKind, Network, NetworkAccount, PostKind
from networks.providers.base import (
    Credential,
    FetchResult,
    Provider,
    parse_time,
    post_tags,
)
from networks.records import AccountRecord, InteractionRecord, PostRecord

LIST_NOTIFICATIONS = "/xrpc/app.bsky.notification.listNotifications"
GET_AUTHOR_FEED = "/xrpc/app.bsky.feed.getAuthorFeed"
TAG_FACET = "app.bsky.richtext.facet#tag"


def api_url(method: str = LIST_NOTIFICATIONS) -> str:
    """An XRPC method on the configured PDS (`BLUESKY_PDS_URL`), where the session lives."""
    return settings.BLUESKY_PDS_URL.rstrip("/") + method


def hashtags(record: dict[str, Any]) -> tuple[str, ...]:
    """A post record's hashtags: its tag facets, then its `tags` array."""
    found: list[str] = []
    for facet in record.get("facets") or []:
        for feature in facet.get("features") or []:
            if feature.get("$type") == TAG_FACET:
                found.append(str(feature.get("tag", "")))
    found += [str(t) for t in record.get("tags") or []]
    return post_tags(found)


def subject_of(item: dict[str, Any]) -> str:
    """The post a notification reacts to ("" when it names none)."""
    record = item.get("record") or {}
    if item.get("reason") in ("like", "repost"):
        return str(item.get("reasonSubject") or (record.get("subject") or {}).get("uri") or "")
    if item.get("reason") == "reply":
        return str(((record.get("reply") or {}).get("parent") or {}).get("uri") or "")
    if item.get("reason") == "quote":
        embed = record.get("embed") or {}
        quoted = embed.get("record") or {}
        # app.bsky.embed.record: {record: strongRef}; recordWithMedia: {record: {record: ...}}
        return str(quoted.get("uri") or (quoted.get("record") or {}).get("uri") or "")
    return ""


KINDS = {
    "like": InteractionKind.LIKE,
    "repost": InteractionKind.SHARE,
    "reply": InteractionKind.REPLY,
    "mention": InteractionKind.MENTION,
    "quote": InteractionKind.QUOTE,
    "follow": InteractionKind.FOLLOW,
}


class BlueskyProvider(Provider):
    network = Network.BLUESKY

    def fetch_since(
        self, account: NetworkAccount, credential: Credential, cursor: str
    ) -> FetchResult:
        result = FetchResult()

        def page(position: str) -> tuple[list[dict[str, Any]], str]:
            params: dict[str, Any] = {"limit": 100}
            if position:
                params["cursor"] = position
            body = self.get_json(api_url(), credential, params=params)
            items = body.get("notifications") or []
            return items, (body.get("cursor") or "") if items else ""

        def read(item: dict[str, Any]) -> bool:
            self._read(item, account, result)
            return True  # every notification seen moves the cursor, kept or not

        result.next_cursor = self.walk_back(
            cursor, page, lambda item: str(item["indexedAt"]), read, str, str
        )
        return result

    def fetch_posts_since(
        self, account: NetworkAccount, credential: Credential, cursor: str
    ) -> FetchResult:
        result = FetchResult()

        def page(position: str) -> tuple[list[dict[str, Any]], str]:
            params: dict[str, Any] = {
                "actor": account.external_id,
                "limit": 100,
                "filter": "posts_with_replies",
            }
            if position:
                params["cursor"] = position
            body = self.get_json(api_url(GET_AUTHOR_FEED), credential, params=params)
            items = body.get("feed") or []
            return items, (body.get("cursor") or "") if items else ""

        def read(item: dict[str, Any]) -> bool:
            post = item["post"]
            if item.get("reason") or (post.get("author") or {}).get("did") != account.external_id:
                return False  # a repost: someone else's post
            record = post.get("record") or {}
            kind = (
                PostKind.REPLY
                if record.get("reply")
                else PostKind.QUOTE
                if (record.get("embed") or {}).get("record")
                else PostKind.ORIGINAL
            )
            result.posts.append(
                PostRecord(
                    str(post["uri"]),
                    account.external_id,
                    parse_time(str(record.get("createdAt") or post["indexedAt"])),
                    str(record.get("text", ""))[:5000],
                    kind,
                    hashtags(record),
                )
            )
            return True

        result.next_cursor = self.walk_back(cursor, page, _feed_time, read, str, str, posts=True)
        return result

    @staticmethod
    def _read(item: dict[str, Any], account: NetworkAccount, result: FetchResult) -> None:
        kind = KINDS.get(item.get("reason", ""))
        if kind is None:
            return
        author = item["author"]
        subject = subject_of(item)
        own = subject.startswith(f"at://{account.external_id}/")
        result.accounts.append(
            AccountRecord(
                author["did"],
                handle=author.get("handle", ""),
                display_name=author.get("displayName", ""),
            )
        )
        result.interactions.append(
            InteractionRecord(
                author["did"],
                account.external_id,
                kind,
                parse_time(item["indexedAt"]),
                f"{item['uri']}:{kind}",
                subject if own else None,
            )
        )


def _feed_time(item: dict[str, Any]) -> str:
    """Where an author-feed item sorts: a repost by when it was reposted, a post by its post."""
    reason = item.get("reason") or {}
    return str(reason.get("indexedAt") or item["post"]["indexedAt"])
