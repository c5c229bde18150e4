"""X API v2: mentions of the account (replies, quotes, mentions), by since_id.

GET /2/users/:id/mentions returns Posts newest first; `meta` carries `newest_id`, `oldest_id`,
`result_count` and, while more pages exist, `next_token`, which goes back as `pagination_token`
(docs.x.com "Pagination" and the user-mention timeline quickstart). When the page budget runs out
the resume position is the oldest id seen: the next sync asks for `until_id` (older than it) with
the same `since_id`, rather than keeping an opaque page token.
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

API = "https://api.x.com/2"


def _id_key(post_id: str) -> tuple[int, str]:
    """Post ids are decimal strings of growing length: compare them as numbers."""
    return (len(post_id), post_id)


class XProvider(Provider):
    network = Network.X

    def fetch_since(
        self, account: NetworkAccount, credential: Credential, cursor: str
    ) -> FetchResult:
        state = parse_resume(cursor)
        since = state.since if state else cursor
        newest = state.newest if state else cursor
        until = str(state.position) if state else ""
        result = FetchResult()
        token = ""
        position = until
        for _ in range(self.MAX_PAGES):
            params: dict[str, Any] = {
                "max_results": 100,
                "tweet.fields": "created_at,author_id,referenced_tweets",
                "expansions": "author_id",
                "user.fields": "username,name,protected",
            }
            if since:
                params["since_id"] = since
            if until:
                params["until_id"] = until
            if token:
                params["pagination_token"] = token
            body = self.get_json(
                f"{API}/users/{account.external_id}/mentions", credential, params=params
            )
            self._read_page(body, account, result)
            meta = body.get("meta", {})
            ids = [str(tweet["id"]) for tweet in body.get("data", [])]
            page_newest = meta.get("newest_id") or max(ids, key=_id_key, default="")
            page_oldest = meta.get("oldest_id") or min(ids, key=_id_key, default="")
            if page_newest and (not newest or _id_key(page_newest) > _id_key(newest)):
                newest = page_newest
            token = meta.get("next_token") or ""
            if not token or not page_oldest:
                result.next_cursor = newest
                return result
            position = page_oldest
        # Out of pages with more to come: continue below the oldest id seen, next time.
        result.next_cursor = resume_cursor(since, newest, position)
        return result

    @staticmethod
    def _read_page(body: dict[str, Any], account: NetworkAccount, result: FetchResult) -> None:
        for user in body.get("includes", {}).get("users", []):
            result.accounts.append(
                AccountRecord(
                    str(user["id"]),
                    handle=user.get("username", ""),
                    display_name=user.get("name", ""),
                    protected=bool(user.get("protected")),
                )
            )
        for tweet in body.get("data", []):
            refs = {r["type"] for r in tweet.get("referenced_tweets", [])}
            kind = (
                InteractionKind.REPLY
                if "replied_to" in refs
                else InteractionKind.QUOTE
                if "quoted" in refs
                else InteractionKind.MENTION
            )
            result.interactions.append(
                InteractionRecord(
                    str(tweet["author_id"]),
                    account.external_id,
                    kind,
                    parse_time(tweet["created_at"]),
                    f"tweet:{tweet['id']}:{kind}",
                )
            )
