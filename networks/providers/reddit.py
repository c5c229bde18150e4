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
    parse_resume,
    resume_cursor,
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
        state = parse_resume(cursor)
        since_text = state.since if state else cursor
        since = float(since_text) if since_text else 0.0
        newest_text = state.newest if state else cursor
        newest = float(newest_text) if newest_text else 0.0
        after = str(state.position) if state else ""
        result = FetchResult()
        for _ in range(self.MAX_PAGES):
            params: dict[str, Any] = {"limit": 100}
            if after:
                params["after"] = after
            body = self.get_json(
                API, credential, params=params, headers={"User-Agent": "klout/1.0"}
            )
            listing = body.get("data", {})
            reached_old = False
            for child in listing.get("children", []):
                item = child.get("data", {})
                created = float(item.get("created_utc", 0))
                if created <= since:
                    reached_old = True
                    break
                kind = KINDS.get(item.get("subject", ""))
                author = item.get("author")
                if kind is None or not author:
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
            after = listing.get("after") or ""
            if reached_old or not after:
                result.next_cursor = repr(newest) if newest else since_text
                return result
        result.next_cursor = resume_cursor(since_text, repr(newest) if newest else "", after)
        return result
