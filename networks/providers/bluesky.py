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

from django.conf import settings

from networks.models import InteractionKind, Network, NetworkAccount
from networks.providers.base import (
    Credential,
    FetchResult,
    Provider,
    parse_time,
)
from networks.records import AccountRecord, InteractionRecord

LIST_NOTIFICATIONS = "/xrpc/app.bsky.notification.listNotifications"


def api_url() -> str:
    """listNotifications on the configured PDS (`BLUESKY_PDS_URL`), where the session lives."""
    return settings.BLUESKY_PDS_URL.rstrip("/") + LIST_NOTIFICATIONS


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
