"""Reddit: the inbox (comment and post replies, username mentions), newest first.

/message/inbox is a Listing: `{"kind": "Listing", "data": {"children": [{"kind": "t1", "data":
{...}}], "after": "t1_x" | null, "before": ...}}`; to page forwards (older) set `after` to
`data.after` (r/redditdev API FAQ, "how do I paginate through a listing?"; `limit` max 100). The
API has no `since`: we walk back until an item is not newer than the cursor (`created_utc`), and
when the page budget runs out the resume position is the `after` fullname.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from networks.models import InteractionKind, Network, NetworkAccount
from networks.providers.base import (
    Credential,
    FetchResult,
    Provider,
)
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
        result = FetchResult()

        def page(position: str) -> tuple[list[dict[str, Any]], str]:
            params: dict[str, Any] = {"limit": 100}
            if position:
                params["after"] = position
            body = self.get_json(
                API, credential, params=params, headers={"User-Agent": "klout/1.0"}
            )
            listing = body.get("data", {})
            items = [child.get("data", {}) for child in listing.get("children", [])]
            return items, listing.get("after") or ""

        def read(item: dict[str, Any]) -> bool:
            kind = KINDS.get(item.get("subject", ""))
            author = item.get("author")
            if kind is None or not author:
                return False
            result.accounts.append(AccountRecord(author, handle=author))
            result.interactions.append(
                InteractionRecord(
                    author,
                    account.external_id,
                    kind,
                    dt.datetime.fromtimestamp(_created(item), dt.UTC),
                    f"inbox:{item['name']}",
                )
            )
            return True

        result.next_cursor = self.walk_back(
            cursor,
            page,
            _created,
            read,
            lambda text: float(text) if text else 0.0,
            lambda newest: repr(newest) if newest else "",
        )
        return result


def _created(item: dict[str, Any]) -> float:
    return float(item.get("created_utc", 0))
