"""Reddit: the inbox (comment and post replies, username mentions), newest first."""

from __future__ import annotations

import datetime as dt

from networks.models import InteractionKind, Network, NetworkAccount
from networks.providers.base import Credential, FetchResult, Provider
from networks.records import AccountRecord, InteractionRecord

API = "https://oauth.reddit.com/message/inbox"
KINDS = {
    "comment reply": InteractionKind.REPLY,
    "post reply": InteractionKind.REPLY,
    "username mention": InteractionKind.MENTION,
}


class RedditProvider(Provider):
    network = Network.REDDIT

    def fetch_since(
        self, account: NetworkAccount, credential: Credential, cursor: str
    ) -> FetchResult:
        body = self.get_json(
            API, credential, params={"limit": 100}, headers={"User-Agent": "klout/1.0"}
        )
        newest = float(cursor) if cursor else 0.0
        result = FetchResult(next_cursor=cursor)
        for child in body.get("data", {}).get("children", []):
            item = child.get("data", {})
            created = float(item.get("created_utc", 0))
            kind = KINDS.get(item.get("subject", ""))
            author = item.get("author")
            if created <= (float(cursor) if cursor else 0.0) or kind is None or not author:
                continue
            newest = max(newest, created)
            result.accounts.append(AccountRecord(author, handle=author))
            result.interactions.append(
                InteractionRecord(
                    author,
                    account.external_id,
                    kind,
                    dt.datetime.fromtimestamp(created, dt.UTC),
                    f"inbox:{item['name']}",
                )
            )
        if newest:
            result.next_cursor = repr(newest)
        return result
