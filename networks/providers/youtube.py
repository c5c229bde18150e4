"""YouTube Data API v3: comment threads on the channel's videos (the channel id is the account).

commentThreads.list with `allThreadsRelatedToChannelId`, `order=time` (newest first),
`maxResults` 1-100 and `pageToken`; the response (`youtube#commentThreadListResponse`) has
`items`, `pageInfo` and, while more pages exist, `nextPageToken` (developers.google.com
youtube/v3/docs/commentThreads/list; CommentThreadListResponse in the API client docs). Each item's
`snippet.topLevelComment.snippet` has `authorChannelId.value`, `authorDisplayName` and
`publishedAt`. No `since` parameter exists: we page back until a comment is not newer than the
cursor, and a `nextPageToken` is the resume position when the page budget runs out.
"""

from __future__ import annotations

from typing import Any

from networks.models import InteractionKind, Network, NetworkAccount
from networks.providers.base import (
    Credential,
    FetchResult,
    Provider,
    parse_time,
)
from networks.records import AccountRecord, InteractionRecord

API = "https://www.googleapis.com/youtube/v3/commentThreads"


class YouTubeProvider(Provider):
    network = Network.YOUTUBE

    def fetch_since(
        self, account: NetworkAccount, credential: Credential, cursor: str
    ) -> FetchResult:
        result = FetchResult()

        def page(position: str) -> tuple[list[dict[str, Any]], str]:
            params: dict[str, Any] = {
                "part": "snippet",
                "allThreadsRelatedToChannelId": account.external_id,
                "maxResults": 100,
                "order": "time",
            }
            if position:
                params["pageToken"] = position
            body = self.get_json(API, credential, params=params)
            return body.get("items", []), body.get("nextPageToken") or ""

        def read(thread: dict[str, Any]) -> bool:
            comment = thread["snippet"]["topLevelComment"]
            snippet = comment["snippet"]
            author = snippet.get("authorChannelId", {}).get("value")
            if not author or author == account.external_id:
                return False
            result.accounts.append(
                AccountRecord(author, display_name=snippet.get("authorDisplayName", ""))
            )
            result.interactions.append(
                InteractionRecord(
                    author,
                    account.external_id,
                    InteractionKind.COMMENT,
                    parse_time(snippet["publishedAt"]),
                    f"comment:{comment['id']}",
                )
            )
            return True

        result.next_cursor = self.walk_back(cursor, page, _published, read, str, str)
        return result


def _published(thread: dict[str, Any]) -> str:
    return str(thread["snippet"]["topLevelComment"]["snippet"]["publishedAt"])
