"""Mastodon: notifications (mentions, boosts, favourites, follows), by since_id.

GET /api/v1/notifications returns notifications newest first, at most `limit` (max 80) per page;
the `Link` header's rel="next" URL carries `max_id` for the next (older) page (docs.joinmastodon.org
methods/notifications, "Get all notifications": `Link: <...?max_id=34975535>; rel="next", <...
?min_id=34975861>; rel="prev"`). We keep our own query (types[], since_id) and take only `max_id`
from the link; an empty page or a missing rel="next" ends the walk.

Accounts are keyed by their actor URI (`https://host/users/name`), as in the outbox importer.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from networks.models import InteractionKind, Network, NetworkAccount
from networks.providers.base import (
    Credential,
    FetchResult,
    Provider,
    ProviderError,
    parse_resume,
    parse_time,
    resume_cursor,
)
from networks.records import AccountRecord, InteractionRecord

KINDS = {
    "mention": InteractionKind.MENTION,
    "reblog": InteractionKind.SHARE,
    "favourite": InteractionKind.LIKE,
    "follow": InteractionKind.FOLLOW,
}
LIMIT = 80


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
        state = parse_resume(cursor)
        since = state.since if state else cursor
        newest = int(state.newest if state else cursor or 0)
        max_id = str(state.position) if state else ""
        result = FetchResult()
        for _ in range(self.MAX_PAGES):
            params: list[tuple[str, object]] = [("limit", LIMIT)]
            params += [("types[]", t) for t in KINDS]
            if since:
                params.append(("since_id", since))
            if max_id:
                params.append(("max_id", max_id))
            items, links = self.get_page(
                f"https://{home}/api/v1/notifications", credential, params=params
            )
            for item in items:
                newest = max(newest, int(item["id"]))
                self._read(item, account, home, result)
            max_id = max_id_of(links.get("next", ""))
            if not items or not max_id:
                result.next_cursor = str(newest) if newest else ""
                return result
        result.next_cursor = resume_cursor(since, str(newest), max_id)
        return result

    @staticmethod
    def _read(
        item: dict[str, Any], account: NetworkAccount, home: str, result: FetchResult
    ) -> None:
        kind = KINDS.get(item.get("type", ""))
        if kind is None:
            return
        who = item["account"]
        actor = actor_uri(who["acct"], home)
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
            )
        )
