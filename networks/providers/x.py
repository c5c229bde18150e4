"""X API v2: mentions of the account (replies, quotes, mentions) and its own posts, by since_id.

GET /2/users/:id/mentions and GET /2/users/:id/tweets return Posts newest first; `meta` carries
`newest_id`, `oldest_id`, `result_count` and, while more pages exist, `next_token`, which goes back
as `pagination_token` (docs.x.com "Pagination" and the user timeline quickstarts). When the page
budget runs out the resume position is the oldest id seen: the next sync asks for `until_id`
(older than it) with the same `since_id`, rather than keeping an opaque page token.

Own posts come without retweets (`exclude=retweets`: a retweet is someone else's post); their tags
are `entities.hashtags[].tag`. The author expansion reports the account's own `protected` flag, so
a protected account is hidden by the store and its posts are never kept. A mention that replies to
or quotes one of the account's posts (`referenced_tweets`, expanded with their `author_id`) is
linked to that post, so reactions count for the post's topics.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from networks.models import InteractionKind, Network, NetworkAccount, PostKind
from networks.providers.base import (
    Credential,
    FetchResult,
    Provider,
    parse_resume,
    parse_time,
    post_tags,
    resume_cursor,
)
from networks.records import AccountRecord, InteractionRecord, PostRecord

API = "https://api.x.com/2"


def _id_key(post_id: str) -> tuple[int, str]:
    """Post ids are decimal strings of growing length: compare them as numbers."""
    return (len(post_id), post_id)


def _refs(tweet: dict[str, Any]) -> dict[str, str]:
    """A post's referenced posts by type (replied_to, quoted, retweeted)."""
    return {str(r.get("type")): str(r.get("id", "")) for r in tweet.get("referenced_tweets") or []}


class XProvider(Provider):
    network = Network.X

    def fetch_since(
        self, account: NetworkAccount, credential: Credential, cursor: str
    ) -> FetchResult:
        params: dict[str, Any] = {
            "max_results": 100,
            "tweet.fields": "created_at,author_id,referenced_tweets",
            "expansions": "author_id,referenced_tweets.id",
            "user.fields": "username,name,protected",
        }
        result = FetchResult()
        result.next_cursor = self._timeline(
            f"{API}/users/{account.external_id}/mentions",
            credential,
            cursor,
            params,
            lambda body: self._read_page(body, account, result),
            posts=False,
        )
        return result

    def fetch_posts_since(
        self, account: NetworkAccount, credential: Credential, cursor: str
    ) -> FetchResult:
        params: dict[str, Any] = {
            "max_results": 100,
            "exclude": "retweets",
            "tweet.fields": "created_at,author_id,entities,referenced_tweets",
            "expansions": "author_id",
            "user.fields": "username,name,protected",
        }
        result = FetchResult()
        result.next_cursor = self._timeline(
            f"{API}/users/{account.external_id}/tweets",
            credential,
            cursor,
            params,
            lambda body: self._read_posts(body, account, result),
            posts=True,
        )
        return result

    def _timeline(
        self,
        url: str,
        credential: Credential,
        cursor: str,
        base: dict[str, Any],
        read: Callable[[dict[str, Any]], None],
        *,
        posts: bool,
    ) -> str:
        """Walk a newest-first timeline from the newest page back to `since_id`; the next cursor."""
        state = parse_resume(cursor)
        since = state.since if state else cursor
        newest = state.newest if state else cursor
        until = str(state.position) if state else ""
        token = ""
        position = until
        pages, resumable = self.page_budget(cursor, posts=posts)
        for _ in range(pages):
            params = dict(base)
            if since:
                params["since_id"] = since
            if until:
                params["until_id"] = until
            if token:
                params["pagination_token"] = token
            body = self.get_json(url, credential, params=params)
            read(body)
            meta = body.get("meta", {})
            ids = [str(tweet["id"]) for tweet in body.get("data", [])]
            page_newest = meta.get("newest_id") or max(ids, key=_id_key, default="")
            page_oldest = meta.get("oldest_id") or min(ids, key=_id_key, default="")
            if page_newest and (not newest or _id_key(page_newest) > _id_key(newest)):
                newest = page_newest
            token = meta.get("next_token") or ""
            if not token or not page_oldest:
                return newest
            position = page_oldest
        if not resumable:
            return newest
        # Out of pages with more to come: continue below the oldest id seen, next time.
        return resume_cursor(since, newest, position)

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
        # Referenced posts the account wrote: a reply or quote of one of them reacts to it.
        own = {
            str(t["id"])
            for t in body.get("includes", {}).get("tweets", [])
            if str(t.get("author_id")) == account.external_id
        }
        for tweet in body.get("data", []):
            refs = _refs(tweet)
            kind = (
                InteractionKind.REPLY
                if "replied_to" in refs
                else InteractionKind.QUOTE
                if "quoted" in refs
                else InteractionKind.MENTION
            )
            target = refs.get("replied_to") or refs.get("quoted")
            result.interactions.append(
                InteractionRecord(
                    str(tweet["author_id"]),
                    account.external_id,
                    kind,
                    parse_time(tweet["created_at"]),
                    f"tweet:{tweet['id']}:{kind}",
                    target if target in own else None,
                )
            )

    @staticmethod
    def _read_posts(body: dict[str, Any], account: NetworkAccount, result: FetchResult) -> None:
        for user in body.get("includes", {}).get("users", []):
            if str(user["id"]) != account.external_id:
                continue  # only the account itself is described by its own timeline
            result.accounts.append(
                AccountRecord(
                    account.external_id,
                    handle=user.get("username", ""),
                    display_name=user.get("name", ""),
                    protected=bool(user.get("protected")),
                )
            )
        for tweet in body.get("data", []):
            refs = _refs(tweet)
            if "retweeted" in refs or str(tweet.get("author_id", account.external_id)) != (
                account.external_id
            ):
                continue
            kind = (
                PostKind.REPLY
                if "replied_to" in refs
                else PostKind.QUOTE
                if "quoted" in refs
                else PostKind.ORIGINAL
            )
            hashtags = (tweet.get("entities") or {}).get("hashtags") or []
            result.posts.append(
                PostRecord(
                    str(tweet["id"]),
                    account.external_id,
                    parse_time(tweet["created_at"]),
                    str(tweet.get("text", ""))[:5000],
                    kind,
                    post_tags(h.get("tag") for h in hashtags),
                )
            )
