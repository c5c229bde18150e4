"""Live providers, from hand-written responses shaped like each API's documentation."""

from __future__ import annotations

import time

import pytest
import responses

from networks.models import NetworkAccount
from networks.providers import Credential, CredentialRevoked, ProviderError
from networks.providers.bluesky import API as BLUESKY_API
from networks.providers.bluesky import BlueskyProvider
from networks.providers.github import GitHubProvider
from networks.providers.mastodon import MastodonProvider
from networks.providers.reddit import API as REDDIT_API
from networks.providers.reddit import RedditProvider
from networks.providers.x import XProvider
from networks.providers.youtube import API as YOUTUBE_API
from networks.providers.youtube import YouTubeProvider

TOKEN = Credential(access_token="t0ken")


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
