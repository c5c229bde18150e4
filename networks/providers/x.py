"""X API v2: mentions of the account (replies, quotes, mentions), by since_id."""

from __future__ import annotations

from networks.models import InteractionKind, Network, NetworkAccount
from networks.providers.base import Credential, FetchResult, Provider, parse_time
from networks.records import AccountRecord, InteractionRecord

API = "https://api.x.com/2"


class XProvider(Provider):
    network = Network.X

    def fetch_since(
        self, account: NetworkAccount, credential: Credential, cursor: str
    ) -> FetchResult:
        params = {
            "max_results": 100,
            "tweet.fields": "created_at,author_id,referenced_tweets",
            "expansions": "author_id",
            "user.fields": "username,name,protected",
        }
        if cursor:
            params["since_id"] = cursor
        body = self.get_json(
            f"{API}/users/{account.external_id}/mentions", credential, params=params
        )
        result = FetchResult(next_cursor=body.get("meta", {}).get("newest_id") or cursor)
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
        return result
