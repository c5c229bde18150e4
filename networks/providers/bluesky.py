"""Bluesky (AT Protocol): listNotifications pages, newest first, back to the cursor.

app.bsky.notification.listNotifications takes `limit` (1-100) and `cursor`, and returns
`{"notifications": [...], "cursor": "..."}`; each notification has `uri`, `cid`, `author`
(a profile view with `did`, `handle`, `displayName`), `reason`, `record`, `isRead` and `indexedAt`
(the lexicon, as generated in atrium-api `app/bsky/notification/list_notifications.rs`). The
cursor we keep is the newest `indexedAt` seen; the API's own cursor pages backwards and is the
resume position when the page budget runs out.
"""

from __future__ import annotations

from typing import Any

from networks.models import InteractionKind, Network, NetworkAccount
from networks.providers.base import (
    Credential,
    FetchResult,
    Provider,
    parse_resume,
    parse_time,
    resume_cursor,
)
from networks.records import AccountRecord, InteractionRecord

API = "https://bsky.social/xrpc/app.bsky.notification.listNotifications"
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
        state = parse_resume(cursor)
        since = state.since if state else cursor
        newest = state.newest if state else cursor
        page_cursor = str(state.position) if state else ""
        result = FetchResult()
        for _ in range(self.MAX_PAGES):
            params: dict[str, Any] = {"limit": 100}
            if page_cursor:
                params["cursor"] = page_cursor
            body = self.get_json(API, credential, params=params)
            reached_old = False
            for item in body.get("notifications", []):
                if since and item["indexedAt"] <= since:
                    reached_old = True
                    break
                newest = max(newest, item["indexedAt"])
                self._read(item, account, result)
            page_cursor = body.get("cursor") or ""
            if reached_old or not page_cursor or not body.get("notifications"):
                result.next_cursor = newest
                return result
        result.next_cursor = resume_cursor(since, newest, page_cursor)
        return result

    @staticmethod
    def _read(item: dict[str, Any], account: NetworkAccount, result: FetchResult) -> None:
        kind = KINDS.get(item.get("reason", ""))
        if kind is None:
            return
        author = item["author"]
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
            )
        )
