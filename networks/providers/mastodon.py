"""Mastodon: notifications (mentions, boosts, favourites, follows), by since_id.

Accounts are keyed by their actor URI (`https://host/users/name`), as in the outbox importer.
"""

from __future__ import annotations

from networks.models import InteractionKind, Network, NetworkAccount
from networks.providers.base import Credential, FetchResult, Provider, ProviderError, parse_time
from networks.records import AccountRecord, InteractionRecord

KINDS = {
    "mention": InteractionKind.MENTION,
    "reblog": InteractionKind.SHARE,
    "favourite": InteractionKind.LIKE,
    "follow": InteractionKind.FOLLOW,
}


def instance_of(account: NetworkAccount) -> str:
    """The account's server, from its actor URI or its `name@host` handle."""
    if account.external_id.startswith("https://"):
        return account.external_id.split("/")[2]
    if "@" in account.handle:
        return account.handle.rsplit("@", 1)[1]
    raise ProviderError("mastodon: the account's server is unknown", transient=False)


def actor_uri(acct: str, home: str) -> str:
    """`name` (local) or `name@host` as the actor URI Mastodon uses."""
    name, _, host = acct.partition("@")
    return f"https://{host or home}/users/{name}"


class MastodonProvider(Provider):
    network = Network.MASTODON

    def fetch_since(
        self, account: NetworkAccount, credential: Credential, cursor: str
    ) -> FetchResult:
        home = instance_of(account)
        params: list[tuple[str, object]] = [("limit", 80)]
        params += [("types[]", t) for t in KINDS]
        if cursor:
            params.append(("since_id", cursor))
        items = self.get_json(f"https://{home}/api/v1/notifications", credential, params=params)
        result = FetchResult(next_cursor=cursor)
        newest = int(cursor) if cursor.isdigit() else 0
        for item in items:
            newest = max(newest, int(item["id"]))
            kind = KINDS.get(item.get("type", ""))
            if kind is None:
                continue
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
        if newest:
            result.next_cursor = str(newest)
        return result
