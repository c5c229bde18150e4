"""Reddit: the inbox (comment and post replies, username mentions) and the account's own posts.

/message/inbox is a Listing: `{"kind": "Listing", "data": {"children": [{"kind": "t1", "data":
{...}}], "after": "t1_x" | null, "before": ...}}`; to page forwards (older) set `after` to
`data.after` (r/redditdev API FAQ, "how do I paginate through a listing?"; `limit` max 100). The
API has no `since`: we walk back until an item is not newer than the cursor (`created_utc`), and
when the page budget runs out the resume position is the `after` fullname.

Own posts: /user/{username}/overview is the same kind of Listing, newest first, of the account's
submissions (t3: `title`, `selftext`) and comments (t1: `body`), each with `name` (its fullname,
the post's id here), `subreddit`, `subreddit_type` and `created_utc`. The subreddit is the post's
tag (a profile's own `u_name` subreddit says nothing about a topic); posts in private subreddits
are not public and are skipped. A reply in the inbox names what it replies to in `parent_id`,
the fullname of the account's comment or submission: the reply is linked to that post.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from networks.models import InteractionKind, Network, NetworkAccount, PostKind
from networks.providers.base import (
    Credential,
    FetchResult,
    Provider,
)
from networks.records import AccountRecord, InteractionRecord, PostRecord

OAUTH = "https://oauth.reddit.com"
API = f"{OAUTH}/message/inbox"
HEADERS = {"User-Agent": "klout/1.0"}
KINDS = {
    "comment reply": InteractionKind.REPLY,
    "post reply": InteractionKind.REPLY,
    "username mention": InteractionKind.MENTION,
}
REPLIES = {"comment reply", "post reply"}  # their parent is the account's own post


def overview_url(account: NetworkAccount) -> str:
    """The account's own submissions and comments (its external id is its username)."""
    return f"{OAUTH}/user/{quote(account.external_id, safe='')}/overview"


class RedditProvider(Provider):
    network = Network.REDDIT

    def fetch_since(
        self, account: NetworkAccount, credential: Credential, cursor: str
    ) -> FetchResult:
        result = FetchResult()

        def read(item: dict[str, Any]) -> bool:
            subject = item.get("subject", "")
            kind = KINDS.get(subject)
            author = item.get("author")
            if kind is None or not author:
                return False
            parent = item.get("parent_id") if subject in REPLIES else None
            result.accounts.append(AccountRecord(author, handle=author))
            result.interactions.append(
                InteractionRecord(
                    author,
                    account.external_id,
                    kind,
                    dt.datetime.fromtimestamp(_created(item), dt.UTC),
                    f"inbox:{item['name']}",
                    str(parent) if parent else None,
                )
            )
            return True

        result.next_cursor = self._listing(API, credential, cursor, read, posts=False)
        return result

    def fetch_posts_since(
        self, account: NetworkAccount, credential: Credential, cursor: str
    ) -> FetchResult:
        result = FetchResult()

        def read(item: dict[str, Any]) -> bool:
            if str(item.get("author", "")).casefold() != account.external_id.casefold():
                return False
            if item.get("subreddit_type") == "private":
                return False
            name = str(item["name"])
            comment = name.startswith("t1_")
            text = (
                str(item.get("body", ""))
                if comment
                else "\n\n".join(part for part in (item.get("title"), item.get("selftext")) if part)
            )
            subreddit = str(item.get("subreddit", ""))
            result.posts.append(
                PostRecord(
                    name,
                    account.external_id,
                    dt.datetime.fromtimestamp(_created(item), dt.UTC),
                    text[:5000],
                    PostKind.REPLY if comment else PostKind.ORIGINAL,
                    (subreddit,) if subreddit and not subreddit.startswith("u_") else (),
                )
            )
            return True

        result.next_cursor = self._listing(
            overview_url(account), credential, cursor, read, posts=True
        )
        return result

    def _listing(
        self,
        url: str,
        credential: Credential,
        cursor: str,
        read: Callable[[dict[str, Any]], bool],
        *,
        posts: bool,
    ) -> str:
        """Walk a newest-first Listing back to the cursor (`created_utc`); the next cursor."""

        def page(position: str) -> tuple[list[dict[str, Any]], str]:
            params: dict[str, Any] = {"limit": 100}
            if position:
                params["after"] = position
            body = self.get_json(url, credential, params=params, headers=HEADERS)
            listing = body.get("data", {})
            items = [child.get("data", {}) for child in listing.get("children", [])]
            return items, listing.get("after") or ""

        return self.walk_back(
            cursor,
            page,
            _created,
            read,
            lambda text: float(text) if text else 0.0,
            lambda newest: repr(newest) if newest else "",
            posts=posts,
        )


def _created(item: dict[str, Any]) -> float:
    return float(item.get("created_utc", 0))
