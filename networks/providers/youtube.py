"""YouTube Data API v3: comment threads on the channel's videos (the channel id is the account)."""

from __future__ import annotations

from networks.models import InteractionKind, Network, NetworkAccount
from networks.providers.base import Credential, FetchResult, Provider, parse_time
from networks.records import AccountRecord, InteractionRecord

API = "https://www.googleapis.com/youtube/v3/commentThreads"


class YouTubeProvider(Provider):
    network = Network.YOUTUBE

    def fetch_since(
        self, account: NetworkAccount, credential: Credential, cursor: str
    ) -> FetchResult:
        body = self.get_json(
            API,
            credential,
            params={
                "part": "snippet",
                "allThreadsRelatedToChannelId": account.external_id,
                "maxResults": 100,
                "order": "time",
            },
        )
        result = FetchResult(next_cursor=cursor)
        for thread in body.get("items", []):
            comment = thread["snippet"]["topLevelComment"]
            snippet = comment["snippet"]
            when = snippet["publishedAt"]
            author = snippet.get("authorChannelId", {}).get("value")
            if not author or (cursor and when <= cursor) or author == account.external_id:
                continue
            result.next_cursor = max(result.next_cursor, when)
            result.accounts.append(
                AccountRecord(author, display_name=snippet.get("authorDisplayName", ""))
            )
            result.interactions.append(
                InteractionRecord(
                    author,
                    account.external_id,
                    InteractionKind.COMMENT,
                    parse_time(when),
                    f"comment:{comment['id']}",
                )
            )
        return result
