"""Bluesky (AT Protocol): listNotifications pages, newest first, back to the cursor."""

from __future__ import annotations

from networks.models import InteractionKind, Network, NetworkAccount
from networks.providers.base import Credential, FetchResult, Provider, parse_time
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
MAX_PAGES = 10


class BlueskyProvider(Provider):
    network = Network.BLUESKY

    def fetch_since(
        self, account: NetworkAccount, credential: Credential, cursor: str
    ) -> FetchResult:
        # The cursor we keep is the newest indexedAt seen; the API's own cursor pages backwards.
        result = FetchResult(next_cursor=cursor)
        page_cursor = None
        for _ in range(MAX_PAGES):
            params = {"limit": 100, **({"cursor": page_cursor} if page_cursor else {})}
            body = self.get_json(API, credential, params=params)
            reached_old = False
            for item in body.get("notifications", []):
                if cursor and item["indexedAt"] <= cursor:
                    reached_old = True
                    break
                result.next_cursor = max(result.next_cursor, item["indexedAt"])
                kind = KINDS.get(item.get("reason", ""))
                if kind is None:
                    continue
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
            page_cursor = body.get("cursor")
            if reached_old or not page_cursor:
                break
        return result
