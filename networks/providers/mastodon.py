"""Mastodon: notifications (mentions, boosts, favourites, follows), by since_id.

GET /api/v1/notifications returns notifications newest first, at most `limit` (max 80) per page;
the `Link` header's rel="next" URL carries `max_id` for the next (older) page (docs.joinmastodon.org
methods/notifications, "Get all notifications": `Link: <...?max_id=34975535>; rel="next", <...
?min_id=34975861>; rel="prev"`). We keep our own query (types[], since_id) and take only `max_id`
from the link; an empty page or a missing rel="next" ends the walk.

Accounts are keyed by their actor URI (`https://host/users/name`), as in the outbox importer.

Own posts: GET /api/v1/accounts/:id/statuses (`limit` max 40, `since_id`, `max_id`,
`exclude_reblogs`; the same `Link` paging) for the account's local id, taken from its login uid
(`id@host`) or asked of /api/v1/accounts/verify_credentials. A status is stored under its `uri`
(the outbox importer's post id, so an import and a sync never store it twice) with its
`tags[].name`; only `public` and `unlisted` statuses are kept (followers-only and direct ones are
not public).
A favourite or boost notification carries the status it reacted to, and a mention that replies to
one of the account's statuses names it (`in_reply_to_id`, `in_reply_to_account_id`): the reaction
is linked to that post.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from networks.models import InteractionKind, Network, NetworkAccount, PostKind
from networks.providers.base import (
    Credential,
    FetchResult,
    Provider,
    ProviderError,
    parse_resume,
    parse_time,
    post_tags,
    resume_cursor,
)
from networks.records import AccountRecord, InteractionRecord, PostRecord

KINDS = {
    "mention": InteractionKind.MENTION,
    "reblog": InteractionKind.SHARE,
    "favourite": InteractionKind.LIKE,
    "follow": InteractionKind.FOLLOW,
}
LIMIT = 80
STATUS_LIMIT = 40
PUBLIC = {"public", "unlisted"}
LINKED = {"favourite", "reblog"}  # notifications whose `status` is the account's own


def instance_of(account: NetworkAccount) -> str:
    """The server whose API serves the account: where it was linked (its login uid `id@host`),
    else its actor URI's host, else its `name@host` handle's. The actor URI's host can differ
    from the API's (a server with separate LOCAL_DOMAIN and WEB_DOMAIN)."""
    if "@" in account.login_uid:
        return account.login_uid.rsplit("@", 1)[1]
    if account.external_id.startswith("https://"):
        return account.external_id.split("/")[2]
    if "@" in account.handle:
        return account.handle.rsplit("@", 1)[1]
    raise ProviderError("mastodon: the account's server is unknown", transient=False)


def actor_uri(acct: str, home: str) -> str:
    """`name` (local) or `name@host` as the actor URI Mastodon uses."""
    name, _, host = acct.partition("@")
    return f"https://{host or home}/users/{name}"


def max_id_of(url: str) -> str:
    """The `max_id` a rel="next" link asks for ("" if it has none)."""
    return (parse_qs(urlsplit(url).query).get("max_id") or [""])[0]


class MastodonProvider(Provider):
    network = Network.MASTODON

    def fetch_since(
        self, account: NetworkAccount, credential: Credential, cursor: str
    ) -> FetchResult:
        home = instance_of(account)
        result = FetchResult()
        query: list[tuple[str, object]] = [("limit", LIMIT)]
        query += [("types[]", t) for t in KINDS]
        result.next_cursor = self._walk(
            f"https://{home}/api/v1/notifications",
            credential,
            cursor,
            query,
            lambda item: self._read(item, account, home, result),
            posts=False,
        )
        return result

    def fetch_posts_since(
        self, account: NetworkAccount, credential: Credential, cursor: str
    ) -> FetchResult:
        home = instance_of(account)
        local_id = self._local_id(account, credential, home)
        result = FetchResult()
        query: list[tuple[str, object]] = [("limit", STATUS_LIMIT), ("exclude_reblogs", "true")]
        result.next_cursor = self._walk(
            f"https://{home}/api/v1/accounts/{local_id}/statuses",
            credential,
            cursor,
            query,
            lambda status: self._read_status(status, account, local_id, result),
            posts=True,
        )
        return result

    def _local_id(self, account: NetworkAccount, credential: Credential, home: str) -> str:
        """The account's id on its server: from its login uid, else the token's own account."""
        local_id, at, _host = account.login_uid.partition("@")
        if at and local_id:
            return local_id
        me = self.get_json(f"https://{home}/api/v1/accounts/verify_credentials", credential)
        return str(me["id"])

    def _walk(
        self,
        url: str,
        credential: Credential,
        cursor: str,
        query: list[tuple[str, object]],
        read: Callable[[dict[str, Any]], None],
        *,
        posts: bool,
    ) -> str:
        """Walk a newest-first list from the newest page back to `since_id`; the next cursor."""
        state = parse_resume(cursor)
        since = state.since if state else cursor
        newest = int(state.newest if state else cursor or 0)
        max_id = str(state.position) if state else ""
        pages, resumable = self.page_budget(cursor, posts=posts)
        for _ in range(pages):
            params = list(query)
            if since:
                params.append(("since_id", since))
            if max_id:
                params.append(("max_id", max_id))
            items, links = self.get_page(url, credential, params=params)
            for item in items:
                newest = max(newest, int(item["id"]))
                read(item)
            max_id = max_id_of(links.get("next", ""))
            if not items or not max_id:
                return str(newest) if newest else ""
        if not resumable:
            return str(newest) if newest else ""
        return resume_cursor(since, str(newest), max_id)

    @staticmethod
    def _read_status(
        status: dict[str, Any], account: NetworkAccount, local_id: str, result: FetchResult
    ) -> None:
        if status.get("reblog") or str((status.get("account") or {}).get("id", local_id)) != (
            local_id
        ):
            return  # a boost is someone else's post
        if status.get("visibility", "public") not in PUBLIC:
            return
        result.posts.append(
            PostRecord(
                str(status["uri"]),
                account.external_id,
                parse_time(status["created_at"]),
                str(status.get("content", ""))[:5000],
                PostKind.REPLY if status.get("in_reply_to_id") else PostKind.ORIGINAL,
                post_tags(t.get("name") for t in status.get("tags") or []),
            )
        )

    @staticmethod
    def _read(
        item: dict[str, Any], account: NetworkAccount, home: str, result: FetchResult
    ) -> None:
        kind = KINDS.get(item.get("type", ""))
        if kind is None:
            return
        who = item["account"]
        actor = actor_uri(who["acct"], home)
        status = item.get("status") or {}
        post = str(status["uri"]) if item.get("type") in LINKED and status.get("uri") else None
        local_id, at, _host = account.login_uid.partition("@")
        replied = status.get("in_reply_to_id")
        if (
            post is None
            and at
            and replied
            and str(status.get("in_reply_to_account_id")) == local_id
        ):
            # A reply to one of the account's own statuses, which live on its server under its
            # actor URI: `<actor>/statuses/<id>` is the `uri` that status was stored under.
            post = f"{account.external_id}/statuses/{replied}"
        result.accounts.append(
            AccountRecord(
                actor,
                handle=who["acct"],
                display_name=who.get("display_name", ""),
                protected=bool(who.get("locked")),
            )
        )
        result.interactions.append(
            InteractionRecord(
                actor,
                account.external_id,
                kind,
                parse_time(item["created_at"]),
                f"notification:{home}:{item['id']}",
                post,
            )
        )
