"""Live providers, from hand-written responses shaped like each API's documentation."""

from __future__ import annotations

import time

import pytest
import responses

from accounts.crypto import encrypt_token
from accounts.models import ProviderCredential
from networks.models import Interaction, NetworkAccount, SyncRun, SyncStatus
from networks.providers import Credential, CredentialRevoked, ProviderError
from networks.providers.base import parse_resume
from networks.providers.bluesky import LIST_NOTIFICATIONS, BlueskyProvider
from networks.providers.github import GitHubProvider
from networks.providers.mastodon import MastodonProvider
from networks.providers.reddit import API as REDDIT_API
from networks.providers.reddit import RedditProvider
from networks.providers.x import XProvider
from networks.providers.youtube import API as YOUTUBE_API
from networks.providers.youtube import YouTubeProvider
from networks.services import sync_account
from tests.factories.networks import NetworkAccountFactory
from tests.networks.matchers import query

TOKEN = Credential(access_token="t0ken")
BLUESKY_API = "https://bsky.social" + LIST_NOTIFICATIONS  # the default BLUESKY_PDS_URL


def account(network: str, external_id: str, handle: str = "") -> NetworkAccount:
    return NetworkAccount(network=network, external_id=external_id, handle=handle)


@responses.activate
def test_x_mentions_become_replies_quotes_and_mentions_with_newest_id_cursor():
    responses.get(
        "https://api.x.com/2/users/100/mentions",
        json={
            "data": [
                {
                    "id": "9",
                    "author_id": "200",
                    "created_at": "2026-11-01T10:00:00.000Z",
                    "text": "@me yes",
                    "referenced_tweets": [{"type": "replied_to", "id": "5"}],
                },
                {
                    "id": "8",
                    "author_id": "300",
                    "created_at": "2026-11-01T09:00:00.000Z",
                    "text": "look",
                    "referenced_tweets": [{"type": "quoted", "id": "4"}],
                },
                {"id": "7", "author_id": "200", "created_at": "2026-11-01T08:00:00.000Z"},
            ],
            "includes": {
                "users": [
                    {"id": "200", "username": "bob", "name": "Bob"},
                    {"id": "300", "username": "sec", "name": "S", "protected": True},
                ]
            },
            "meta": {"newest_id": "9", "oldest_id": "7", "result_count": 3},
        },
        match=[responses.matchers.query_param_matcher({"since_id": "6"}, strict_match=False)],
    )

    result = XProvider().fetch_since(account("x", "100"), TOKEN, "6")

    assert [i.kind for i in result.interactions] == ["reply", "quote", "mention"]
    assert result.next_cursor == "9"
    assert [a.protected for a in result.accounts] == [False, True]
    assert responses.calls[0].request.headers["Authorization"] == "Bearer t0ken"


@responses.activate
def test_mastodon_notifications_map_boosts_favourites_and_keep_the_highest_id():
    who = {"id": "1", "acct": "bob@other.example", "display_name": "Bob", "locked": False}
    responses.get(
        "https://mastodon.example/api/v1/notifications",
        json=[
            {"id": "42", "type": "reblog", "created_at": "2026-11-01T10:00:00Z", "account": who},
            {"id": "41", "type": "favourite", "created_at": "2026-11-01T09:00:00Z", "account": who},
            {"id": "40", "type": "poll", "created_at": "2026-11-01T08:00:00Z", "account": who},
        ],
    )
    me = account("mastodon", "https://mastodon.example/users/alice")

    result = MastodonProvider().fetch_since(me, TOKEN, "39")

    assert [i.kind for i in result.interactions] == ["share", "like"]
    assert result.interactions[0].actor == "https://other.example/users/bob"
    assert result.next_cursor == "42"


@responses.activate
def test_bluesky_stops_paging_at_the_cursor():
    author = {"did": "did:plc:bob", "handle": "bob.bsky.social", "displayName": "Bob"}
    responses.get(
        BLUESKY_API,
        json={
            "notifications": [
                {
                    "uri": "at://did:plc:bob/app.bsky.feed.like/3k",
                    "author": author,
                    "reason": "like",
                    "indexedAt": "2026-11-02T10:00:00.000Z",
                },
                {
                    "uri": "at://did:plc:bob/app.bsky.feed.repost/2k",
                    "author": author,
                    "reason": "repost",
                    "indexedAt": "2026-11-01T10:00:00.000Z",
                },
            ],
            "cursor": "older",
        },
    )

    result = BlueskyProvider().fetch_since(
        account("bluesky", "did:plc:me"), TOKEN, "2026-11-01T12:00:00.000Z"
    )

    assert [i.kind for i in result.interactions] == ["like"]
    assert result.next_cursor == "2026-11-02T10:00:00.000Z"
    assert len(responses.calls) == 1


@responses.activate
def test_reddit_inbox_replies_and_mentions_since_the_cursor():
    def child(name: str, subject: str, created: float) -> dict[str, object]:
        data = {"name": name, "author": "bob", "subject": subject, "created_utc": created}
        return {"kind": "t1", "data": data}

    responses.get(
        REDDIT_API,
        json={
            "kind": "Listing",
            "data": {
                "children": [
                    child("t1_c", "comment reply", 1_800_000_300.0),
                    child("t1_b", "username mention", 1_800_000_200.0),
                    child("t1_a", "comment reply", 1_800_000_000.0),
                ],
                "after": None,
            },
        },
    )

    result = RedditProvider().fetch_since(account("reddit", "me"), TOKEN, "1800000100.0")

    assert [i.kind for i in result.interactions] == ["reply", "mention"]
    assert result.next_cursor == "1800000300.0"


@responses.activate
def test_github_stars_forks_and_issue_comments_are_reactions():
    responses.get(
        "https://api.github.com/user/repos", json=[{"full_name": "me/tool", "owner": {"id": 1}}]
    )
    responses.get(
        "https://api.github.com/repos/me/tool/stargazers",
        json=[{"starred_at": "2026-11-01T10:00:00Z", "user": {"id": 2, "login": "bob"}}],
    )
    responses.get(
        "https://api.github.com/repos/me/tool/forks",
        json=[{"id": 77, "created_at": "2026-11-01T11:00:00Z", "owner": {"id": 3, "login": "cy"}}],
    )
    responses.get(
        "https://api.github.com/repos/me/tool/issues/comments",
        json=[
            {"id": 5, "created_at": "2026-11-01T12:00:00Z", "user": {"id": 2, "login": "bob"}},
            {"id": 6, "created_at": "2026-11-01T13:00:00Z", "user": {"id": 1, "login": "me"}},
        ],
    )

    result = GitHubProvider().fetch_since(account("github", "1"), TOKEN, "")

    assert [(i.kind, i.actor) for i in result.interactions] == [
        ("like", "2"),
        ("share", "3"),
        ("comment", "2"),
    ]
    assert result.next_cursor == "2026-11-01T12:00:00Z"


@responses.activate
def test_youtube_comment_threads_are_comments_on_the_channel():
    responses.get(
        YOUTUBE_API,
        json={
            "items": [
                {
                    "id": "th1",
                    "snippet": {
                        "videoId": "v1",
                        "topLevelComment": {
                            "id": "c1",
                            "snippet": {
                                "authorChannelId": {"value": "UCbob"},
                                "authorDisplayName": "Bob",
                                "publishedAt": "2026-11-01T10:00:00Z",
                            },
                        },
                    },
                }
            ]
        },
    )

    result = YouTubeProvider().fetch_since(account("youtube", "UCme"), TOKEN, "")

    assert [(i.kind, i.actor, i.receiver) for i in result.interactions] == [
        ("comment", "UCbob", "UCme")
    ]


@responses.activate
def test_rate_limit_is_transient_with_the_retry_after_wait():
    responses.get(YOUTUBE_API, status=429, headers={"Retry-After": "30"})

    with pytest.raises(ProviderError) as caught:
        YouTubeProvider().fetch_since(account("youtube", "UCme"), TOKEN, "")

    assert caught.value.transient
    assert caught.value.retry_after == 30


@responses.activate
def test_x_rate_limit_reset_header_gives_the_wait():
    reset = int(time.time()) + 120
    responses.get(
        "https://api.x.com/2/users/100/mentions",
        status=429,
        headers={"x-rate-limit-reset": str(reset)},
    )

    with pytest.raises(ProviderError) as caught:
        XProvider().fetch_since(account("x", "100"), TOKEN, "")

    assert caught.value.retry_after is not None
    assert 100 < caught.value.retry_after <= 120


@responses.activate
def test_revoked_token_is_a_permanent_error():
    responses.get(REDDIT_API, status=401, json={"message": "Unauthorized"})

    with pytest.raises(CredentialRevoked) as caught:
        RedditProvider().fetch_since(account("reddit", "me"), TOKEN, "")

    assert not caught.value.transient


# --- Pagination -----------------------------------------------------------------------------------
#
# Each scenario serves the same story: notifications n = 6, 5 (page 1) and 4, 3 (page 2), newest
# first, to an account whose cursor stands at n = 2. Providers that filter `since` on their side
# (Reddit, YouTube, Bluesky, GitHub) also serve the already-seen n = 2 at the end, where the walk
# must stop. A page is served only for the continuation parameter the API documents, so a
# provider that asks for the wrong page, or the first page twice, gets no response and fails.


def ts(n: int, millis: bool = False) -> str:
    return f"2026-11-01T{n:02d}:00:00{'.000' if millis else ''}Z"


def rate_limited(url: str, match) -> None:
    responses.get(url, status=429, headers={"Retry-After": "30"}, match=[match])


class Scenario:
    name: str
    provider_cls: type
    pages: list[list[int]] = [[6, 5], [4, 3]]

    @property
    def new(self) -> list[int]:
        return [n for page in self.pages for n in page if n > 2]

    def account(self) -> NetworkAccount:
        raise NotImplementedError

    def cursor_for(self, n: int) -> str:
        raise NotImplementedError

    def key(self, n: int) -> str:
        raise NotImplementedError

    def register(self, fail: int | None = None) -> None:
        raise NotImplementedError


class XScenario(Scenario):
    """docs.x.com "Pagination": `meta.next_token` -> `pagination_token`; no next_token on the last
    page. GET /2/users/:id/mentions (user-mention quickstart): `data` posts with `id`, `author_id`,
    `created_at`; `includes.users`; `meta.newest_id/oldest_id/result_count`. The resumed sync asks
    for `until_id` (the timeline's documented upper bound) below the oldest id it saw."""

    name = "x"
    provider_cls = XProvider
    url = "https://api.x.com/2/users/100/mentions"

    def account(self) -> NetworkAccount:
        return account("x", "100")

    def cursor_for(self, n: int) -> str:
        return str(1000 + n)

    def key(self, n: int) -> str:
        return f"tweet:{1000 + n}:mention"

    def register(self, fail: int | None = None) -> None:
        for i, page in enumerate(self.pages):
            meta: dict[str, object] = {
                "result_count": len(page),
                "newest_id": str(1000 + page[0]),
                "oldest_id": str(1000 + page[-1]),
            }
            if i + 1 < len(self.pages):
                meta["next_token"] = f"tok{i + 1}"
            body = {
                "data": [
                    {"id": str(1000 + n), "author_id": "200", "created_at": ts(n), "text": "hi"}
                    for n in page
                ],
                "includes": {"users": [{"id": "200", "username": "bob", "name": "Bob"}]},
                "meta": meta,
            }
            since = {"since_id": "1002"}
            if i == 0:
                ways = [{**since, "pagination_token": None, "until_id": None}]
            else:
                ways = [
                    {**since, "pagination_token": f"tok{i}", "until_id": None},
                    {
                        **since,
                        "pagination_token": None,
                        "until_id": str(1000 + self.pages[i - 1][-1]),
                    },
                ]
            for way in ways:
                if fail == i:
                    rate_limited(self.url, query(way))
                else:
                    responses.get(self.url, json=body, match=[query(way)])


class MastodonScenario(Scenario):
    """docs.joinmastodon.org methods/notifications "Get all notifications": a JSON array, newest
    first, and `Link: <...?max_id=ID>; rel="next", <...?min_id=ID>; rel="prev"`. Every non-empty
    page links a next one, so the walk ends on an empty page."""

    name = "mastodon"
    provider_cls = MastodonProvider
    url = "https://mastodon.example/api/v1/notifications"
    who = {"id": "1", "acct": "bob@other.example", "display_name": "Bob", "locked": False}

    def account(self) -> NetworkAccount:
        return account("mastodon", "https://mastodon.example/users/alice")

    def cursor_for(self, n: int) -> str:
        return str(100 + n)

    def key(self, n: int) -> str:
        return f"notification:mastodon.example:{100 + n}"

    def register(self, fail: int | None = None) -> None:
        max_ids: list[str | None] = [None] + [str(100 + page[-1]) for page in self.pages]
        bodies = [
            [
                {"id": str(100 + n), "type": "favourite", "created_at": ts(n), "account": self.who}
                for n in page
            ]
            for page in self.pages
        ] + [[]]
        for i, body in enumerate(bodies):
            match = query({"since_id": "102", "max_id": max_ids[i]})
            if fail == i:
                rate_limited(self.url, match)
                continue
            headers = {}
            if body:
                headers["Link"] = (
                    f'<{self.url}?max_id={body[-1]["id"]}>; rel="next", '
                    f'<{self.url}?min_id={body[0]["id"]}>; rel="prev"'
                )
            responses.get(self.url, json=body, headers=headers, match=[match])


class RedditScenario(Scenario):
    """r/redditdev API FAQ "how do I paginate through a listing?": pass `data.after` as `after`.
    A Listing is `{"kind": "Listing", "data": {"children": [{"kind", "data"}], "after", "before"}}`;
    inbox comment replies are kind t1 with `name`, `author`, `subject`, `created_utc`."""

    name = "reddit"
    provider_cls = RedditProvider
    pages = [[6, 5], [4, 3, 2]]

    def account(self) -> NetworkAccount:
        return account("reddit", "me")

    def cursor_for(self, n: int) -> str:
        return repr(float(1_800_000_000 + 100 * n))

    def key(self, n: int) -> str:
        return f"inbox:t1_{n}"

    def register(self, fail: int | None = None) -> None:
        # The account's own posts (a sync's second walk): none in this story.
        responses.get(
            "https://oauth.reddit.com/user/me/overview",
            json={"kind": "Listing", "data": {"children": [], "after": None}},
        )
        for i, page in enumerate(self.pages):
            after = None if i == 0 else f"t1_{self.pages[i - 1][-1]}"
            match = query({"after": after})
            if fail == i:
                rate_limited(REDDIT_API, match)
                continue
            children = [
                {
                    "kind": "t1",
                    "data": {
                        "name": f"t1_{n}",
                        "author": "bob",
                        "subject": "comment reply",
                        "created_utc": float(1_800_000_000 + 100 * n),
                    },
                }
                for n in page
            ]
            # A real inbox has older items still: `after` is set on the last page too.
            listing = {"children": children, "after": f"t1_{page[-1]}", "before": None}
            responses.get(REDDIT_API, json={"kind": "Listing", "data": listing}, match=[match])


class YouTubeScenario(Scenario):
    """developers.google.com youtube/v3/docs/commentThreads/list: `pageToken` takes the response's
    `nextPageToken` (CommentThreadListResponse: kind, etag, nextPageToken, pageInfo, items);
    `items[].snippet.topLevelComment` is a Comment with `id` and `snippet.authorChannelId.value`,
    `authorDisplayName`, `publishedAt`."""

    name = "youtube"
    provider_cls = YouTubeProvider
    pages = [[6, 5], [4, 3, 2]]

    def account(self) -> NetworkAccount:
        return account("youtube", "UCme")

    def cursor_for(self, n: int) -> str:
        return ts(n)

    def key(self, n: int) -> str:
        return f"comment:c{n}"

    def register(self, fail: int | None = None) -> None:
        for i, page in enumerate(self.pages):
            match = query({"pageToken": None if i == 0 else f"p{i}", "order": "time"})
            if fail == i:
                rate_limited(YOUTUBE_API, match)
                continue
            body: dict[str, object] = {
                "kind": "youtube#commentThreadListResponse",
                "pageInfo": {"totalResults": 5, "resultsPerPage": len(page)},
                "items": [
                    {
                        "kind": "youtube#commentThread",
                        "id": f"th{n}",
                        "snippet": {
                            "videoId": "v1",
                            "topLevelComment": {
                                "kind": "youtube#comment",
                                "id": f"c{n}",
                                "snippet": {
                                    "authorChannelId": {"value": "UCbob"},
                                    "authorDisplayName": "Bob",
                                    "publishedAt": ts(n),
                                },
                            },
                        },
                    }
                    for n in page
                ],
                "nextPageToken": f"p{i + 1}",
            }
            responses.get(YOUTUBE_API, json=body, match=[match])


class BlueskyScenario(Scenario):
    """app.bsky.notification.listNotifications lexicon (atrium-api list_notifications.rs):
    params `limit`, `cursor`; output `{"cursor"?, "notifications": [{uri, cid, author, reason,
    record, isRead, indexedAt}]}`."""

    name = "bluesky"
    provider_cls = BlueskyProvider
    pages = [[6, 5], [4, 3, 2]]
    author = {"did": "did:plc:bob", "handle": "bob.bsky.social", "displayName": "Bob"}

    def account(self) -> NetworkAccount:
        return account("bluesky", "did:plc:me")

    def cursor_for(self, n: int) -> str:
        return ts(n, millis=True)

    def key(self, n: int) -> str:
        return f"at://did:plc:bob/app.bsky.feed.like/{n}:like"

    def register(self, fail: int | None = None) -> None:
        for i, page in enumerate(self.pages):
            match = query({"cursor": None if i == 0 else f"c{i}"})
            if fail == i:
                rate_limited(BLUESKY_API, match)
                continue
            notifications = [
                {
                    "uri": f"at://did:plc:bob/app.bsky.feed.like/{n}",
                    "cid": f"bafy{n}",
                    "author": self.author,
                    "reason": "like",
                    "record": {"$type": "app.bsky.feed.like"},
                    "isRead": False,
                    "indexedAt": ts(n, millis=True),
                }
                for n in page
            ]
            body = {"notifications": notifications, "cursor": f"c{i + 1}"}
            responses.get(BLUESKY_API, json=body, match=[match])


class GitHubStarsScenario(Scenario):
    """docs.github.com "Using pagination in the REST API": `link` header with rel="next", "prev",
    "first", "last", page URLs with `page`/`per_page`; "List stargazers" with
    `application/vnd.github.star+json` gives `[{"starred_at", "user": {...}}]`, oldest first, so the
    walk starts at rel="last" and follows rel="prev"."""

    name = "github"
    provider_cls = GitHubProvider
    pages = [[6, 5], [4, 3, 2]]
    url = "https://api.github.com/repos/me/tool/stargazers"

    def account(self) -> NetworkAccount:
        return account("github", "1")

    def cursor_for(self, n: int) -> str:
        return ts(n)

    def key(self, n: int) -> str:
        return f"star:me/tool:{2000 + n}"

    def register(self, fail: int | None = None) -> None:
        responses.get("https://api.github.com/user/repos", json=[{"full_name": "me/tool"}])
        responses.get("https://api.github.com/repos/me/tool/forks", json=[])
        responses.get("https://api.github.com/repos/me/tool/issues/comments", json=[])
        # GitHub numbers pages oldest first: newest-first page i is GitHub page (last - i).
        last = len(self.pages)
        for i, page in enumerate(self.pages):
            number = last - i
            body = [
                {"starred_at": ts(n), "user": {"id": 2000 + n, "login": f"u{n}"}}
                for n in reversed(page)
            ]
            rels = {"first": 1, "last": last}
            if number > 1:
                rels["prev"] = number - 1
            if number < last:
                rels["next"] = number + 1
            link = ", ".join(
                f'<{self.url}?per_page=100&page={p}>; rel="{rel}"' for rel, p in rels.items()
            )
            if number == 1:  # the first request, without `page`, gets page 1
                responses.get(
                    self.url, json=body, headers={"Link": link}, match=[query({"page": None})]
                )
            match = query({"page": str(number)})
            if fail == i:
                rate_limited(self.url, match)
            else:
                responses.get(self.url, json=body, headers={"Link": link}, match=[match])


SCENARIOS = [
    XScenario(),
    MastodonScenario(),
    RedditScenario(),
    YouTubeScenario(),
    BlueskyScenario(),
    GitHubStarsScenario(),
]


def keys(result) -> list[str]:
    return [i.source_key for i in result.interactions]


@pytest.mark.parametrize("s", SCENARIOS, ids=lambda s: s.name)
@responses.activate
def test_every_record_of_both_pages_arrives_in_one_sync(s: Scenario):
    s.register()

    result = s.provider_cls().fetch_since(s.account(), TOKEN, s.cursor_for(2))

    assert sorted(keys(result)) == sorted(s.key(n) for n in s.new)
    assert len(keys(result)) == len(set(keys(result)))
    assert result.next_cursor == s.cursor_for(6)
    assert not result.has_more


@pytest.mark.parametrize("s", SCENARIOS, ids=lambda s: s.name)
@responses.activate
def test_when_the_page_budget_runs_out_the_next_sync_fetches_the_rest(s: Scenario, monkeypatch):
    s.register()
    monkeypatch.setattr(s.provider_cls, "MAX_PAGES", 1)
    provider = s.provider_cls()

    first = provider.fetch_since(s.account(), TOKEN, s.cursor_for(2))
    collected = keys(first)
    cursor = first.next_cursor
    for _ in range(5):
        if parse_resume(cursor) is None:
            break
        more = provider.fetch_since(s.account(), TOKEN, cursor)
        collected += keys(more)
        cursor = more.next_cursor

    assert sorted(keys(first)) == sorted(s.key(n) for n in s.pages[0])
    assert first.has_more
    assert sorted(collected) == sorted(s.key(n) for n in s.new)  # all of them, none twice
    assert cursor == s.cursor_for(6)


@pytest.mark.parametrize("s", SCENARIOS, ids=lambda s: s.name)
@responses.activate
def test_rate_limit_on_page_two_is_transient(s: Scenario):
    s.register(fail=1)

    with pytest.raises(ProviderError) as caught:
        s.provider_cls().fetch_since(s.account(), TOKEN, s.cursor_for(2))

    assert caught.value.transient
    assert caught.value.retry_after == 30
    statuses = [getattr(call.response, "status_code", None) for call in responses.calls]
    assert statuses[-1] == 429  # page 2 was asked for, after a page 1 that arrived
    assert 200 in statuses


@responses.activate
def test_github_issue_comments_follow_rel_next_from_the_cursor():
    """Issue comments (docs "List issue comments for a repository": `since`, oldest first) are
    walked forward along rel="next"; the account's own comments are not reactions."""
    url = "https://api.github.com/repos/me/tool/issues/comments"
    responses.get("https://api.github.com/user/repos", json=[{"full_name": "me/tool"}])
    responses.get("https://api.github.com/repos/me/tool/stargazers", json=[])
    responses.get("https://api.github.com/repos/me/tool/forks", json=[])

    def comment(cid: int, n: int, uid: int = 2) -> dict[str, object]:
        return {"id": cid, "created_at": ts(n), "user": {"id": uid, "login": f"u{uid}"}}

    responses.get(
        url,
        json=[comment(10, 3), comment(11, 4, uid=1)],
        headers={"Link": f'<{url}?since={ts(2)}&page=2>; rel="next", <{url}?page=2>; rel="last"'},
        match=[query({"since": ts(2), "page": None})],
    )
    responses.get(
        url,
        json=[comment(12, 5)],
        headers={"Link": f'<{url}?page=1>; rel="prev", <{url}?page=1>; rel="first"'},
        match=[query({"since": ts(2), "page": "2"})],
    )

    result = GitHubProvider().fetch_since(account("github", "1"), TOKEN, ts(2))

    assert keys(result) == ["issuecomment:10", "issuecomment:12"]
    assert result.next_cursor == ts(5)


@pytest.mark.django_db
@responses.activate
def test_a_429_on_page_two_stores_nothing_and_keeps_the_cursor(alice):
    """sync_account stores only what fetch_since returns: a failure mid-walk loses page 1's
    records for now but leaves the cursor where it was, so the retry fetches them again."""
    ProviderCredential.objects.create(
        user=alice, provider="reddit", uid="me", access_token_enc=encrypt_token("secret")
    )
    linked = NetworkAccountFactory.create(
        network="reddit", external_id="me", user=alice, sync_cursor=RedditScenario().cursor_for(2)
    )
    scenario = RedditScenario()
    scenario.register(fail=1)

    with pytest.raises(ProviderError):
        sync_account(account_id=linked.pk)

    linked.refresh_from_db()
    assert linked.sync_cursor == scenario.cursor_for(2)
    assert not Interaction.objects.filter(receiver=linked).exists()
    assert SyncRun.objects.get(account=linked).status == SyncStatus.FAILED

    responses.reset()
    scenario.register()
    run = sync_account(account_id=linked.pk)

    linked.refresh_from_db()
    assert run.status == SyncStatus.SUCCEEDED
    assert linked.sync_cursor == scenario.cursor_for(6)
    assert Interaction.objects.filter(receiver=linked).count() == len(scenario.new)


@pytest.mark.django_db
@responses.activate
def test_a_sync_cut_short_by_the_page_budget_queues_its_own_continuation(alice, monkeypatch):
    """The task sees the resume cursor and queues another sync (eager here: it runs at once), so a
    catch-up longer than the budget finishes without waiting for the next scheduled sync."""
    from networks import tasks

    ProviderCredential.objects.create(
        user=alice, provider="reddit", uid="me", access_token_enc=encrypt_token("secret")
    )
    scenario = RedditScenario()
    linked = NetworkAccountFactory.create(
        network="reddit", external_id="me", user=alice, sync_cursor=scenario.cursor_for(2)
    )
    scenario.register()
    monkeypatch.setattr(RedditProvider, "MAX_PAGES", 1)

    tasks.sync_account.delay(linked.pk)

    linked.refresh_from_db()
    runs = list(SyncRun.objects.filter(account=linked).order_by("pk"))
    assert [r.status for r in runs] == [SyncStatus.SUCCEEDED, SyncStatus.SUCCEEDED]
    assert parse_resume(runs[0].cursor) is not None
    assert linked.sync_cursor == scenario.cursor_for(6)
    assert Interaction.objects.filter(receiver=linked).count() == len(scenario.new)
