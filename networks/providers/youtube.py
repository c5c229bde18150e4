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
    parse_resume,
    parse_time,
    resume_cursor,
)
from networks.records import AccountRecord, InteractionRecord

API = "https://www.googleapis.com/youtube/v3/commentThreads"


class YouTubeProvider(Provider):
    network = Network.YOUTUBE

    def fetch_since(
        self, account: NetworkAccount, credential: Credential, cursor: str
    ) -> FetchResult:
        state = parse_resume(cursor)
        since = state.since if state else cursor
        newest = state.newest if state else cursor
        token = str(state.position) if state else ""
        result = FetchResult()
        for _ in range(self.MAX_PAGES):
            params: dict[str, Any] = {
                "part": "snippet",
                "allThreadsRelatedToChannelId": account.external_id,
                "maxResults": 100,
                "order": "time",
            }
            if token:
                params["pageToken"] = token
            body = self.get_json(API, credential, params=params)
            reached_old = False
            for thread in body.get("items", []):
                comment = thread["snippet"]["topLevelComment"]
                snippet = comment["snippet"]
                when = snippet["publishedAt"]
                if since and when <= since:
                    reached_old = True
                    break
                author = snippet.get("authorChannelId", {}).get("value")
                if not author or author == account.external_id:
                    continue
                newest = max(newest, when)
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
            token = body.get("nextPageToken") or ""
            if reached_old or not token:
                result.next_cursor = newest
                return result
        result.next_cursor = resume_cursor(since, newest, token)
        return result
