"""YouTube Data API v3: comment threads on the channel's videos (the channel id is the account).

commentThreads.list with `allThreadsRelatedToChannelId`, `order=time` (newest first),
`maxResults` 1-100 and `pageToken`; the response (`youtube#commentThreadListResponse`) has
`items`, `pageInfo` and, while more pages exist, `nextPageToken` (developers.google.com
youtube/v3/docs/commentThreads/list; CommentThreadListResponse in the API client docs). Each item's
`snippet.topLevelComment.snippet` has `authorChannelId.value`, `authorDisplayName` and
`publishedAt`. No `since` parameter exists: we page back until a comment is not newer than the
cursor, and a `nextPageToken` is the resume position when the page budget runs out. A thread's
`snippet.videoId` is the channel's video it was written on: the comment is linked to that post.

Own posts: the channel's uploads playlist (channels.list `part=contentDetails`:
`contentDetails.relatedPlaylists.uploads`), read with playlistItems.list (`part=contentDetails`,
`maxResults` 1-50, `pageToken`; `contentDetails.videoId` and `videoPublishedAt`), newest first,
then videos.list (`part=snippet,status`, up to 50 ids) for each page's `snippet.tags`, title and
`status.privacyStatus`. A video is stored under its id with its tags; only public videos are kept.
"""

from __future__ import annotations

from typing import Any

from networks.models import InteractionKind, Network, NetworkAccount, PostKind
from networks.providers.base import (
    Credential,
    FetchResult,
    Provider,
    parse_time,
    post_tags,
)
from networks.records import AccountRecord, InteractionRecord, PostRecord

V3 = "https://www.googleapis.com/youtube/v3"
API = f"{V3}/commentThreads"
CHANNELS = f"{V3}/channels"
PLAYLIST_ITEMS = f"{V3}/playlistItems"
VIDEOS = f"{V3}/videos"


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
                    str(thread["snippet"]["videoId"]) if thread["snippet"].get("videoId") else None,
                )
            )
            return True

        result.next_cursor = self.walk_back(cursor, page, _published, read, str, str)
        return result

    def fetch_posts_since(
        self, account: NetworkAccount, credential: Credential, cursor: str
    ) -> FetchResult:
        uploads = self._uploads(account, credential)
        if not uploads:
            return FetchResult(next_cursor=cursor)  # no channel to read uploads from
        result = FetchResult()

        def page(position: str) -> tuple[list[dict[str, Any]], str]:
            params: dict[str, Any] = {
                "part": "contentDetails",
                "playlistId": uploads,
                "maxResults": 50,
            }
            if position:
                params["pageToken"] = position
            body = self.get_json(PLAYLIST_ITEMS, credential, params=params)
            # A deleted or private video has no `videoPublishedAt`: nothing to order or store.
            items = [
                i for i in body.get("items", []) if i["contentDetails"].get("videoPublishedAt")
            ]
            ids = [str(item["contentDetails"]["videoId"]) for item in items]
            videos: dict[str, dict[str, Any]] = {}
            if ids:
                found = self.get_json(
                    VIDEOS, credential, params={"part": "snippet,status", "id": ",".join(ids)}
                )
                videos = {str(v["id"]): v for v in found.get("items", [])}
            paired = [
                {"item": item, "video": videos.get(str(item["contentDetails"]["videoId"]))}
                for item in items
            ]
            return paired, body.get("nextPageToken") or ""

        def read(pair: dict[str, Any]) -> bool:
            video = pair["video"]
            if video is None or (video.get("status") or {}).get("privacyStatus") != "public":
                return False
            snippet = video.get("snippet") or {}
            if snippet.get("channelId", account.external_id) != account.external_id:
                return False
            result.posts.append(
                PostRecord(
                    str(video["id"]),
                    account.external_id,
                    parse_time(str(snippet.get("publishedAt") or _uploaded(pair))),
                    str(snippet.get("title", ""))[:5000],
                    PostKind.ORIGINAL,
                    post_tags(snippet.get("tags") or []),
                )
            )
            return True

        result.next_cursor = self.walk_back(cursor, page, _uploaded, read, str, str, posts=True)
        return result

    def _uploads(self, account: NetworkAccount, credential: Credential) -> str:
        """The id of the channel's uploads playlist ("" when the channel is not found)."""
        body = self.get_json(
            CHANNELS, credential, params={"part": "contentDetails", "id": account.external_id}
        )
        for channel in body.get("items", []):
            uploads = (
                (channel.get("contentDetails") or {}).get("relatedPlaylists", {}).get("uploads")
            )
            if uploads:
                return str(uploads)
        return ""


def _published(thread: dict[str, Any]) -> str:
    return str(thread["snippet"]["topLevelComment"]["snippet"]["publishedAt"])


def _uploaded(pair: dict[str, Any]) -> str:
    return str(pair["item"]["contentDetails"]["videoPublishedAt"])
