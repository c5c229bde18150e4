"""Live providers store the linked person's own posts with their tags (issue 14: topic evidence for
people who only link accounts), from recorded responses shaped like each API's documentation.

Each provider's story: the person's own posts (one the walk must skip: a retweet, a boost, a
repost, a private post, a fork), and one reaction to one of them, which is linked to the post.
"""

from __future__ import annotations

from typing import Any

import pytest
import responses

from accounts.crypto import encrypt_token
from accounts.models import ProviderCredential
from networks import tasks
from networks.models import Interaction, NetworkAccount, Post, SyncRun, SyncStatus
from networks.providers import Credential, ProviderError
from networks.providers.base import parse_resume
from networks.providers.bluesky import GET_AUTHOR_FEED, LIST_NOTIFICATIONS, BlueskyProvider
from networks.providers.github import GitHubProvider, repo_post
from networks.providers.mastodon import MastodonProvider
from networks.providers.reddit import RedditProvider
from networks.providers.x import XProvider
from networks.providers.youtube import API as COMMENT_THREADS
from networks.providers.youtube import CHANNELS, PLAYLIST_ITEMS, VIDEOS, YouTubeProvider
from networks.services import sync_account
from tests.factories.networks import NetworkAccountFactory
from tests.networks.matchers import query

pytestmark = pytest.mark.django_db

X = "https://api.x.com/2/users/100"
MASTO = "https://social.example"
ALICE_ACTOR = f"{MASTO}/users/alice"
BSKY = "https://bsky.social"  # the default BLUESKY_PDS_URL
REDDIT = "https://oauth.reddit.com"
GITHUB = "https://api.github.com"


def link(user, *, network: str, provider: str, external_id: str, **fields: Any) -> NetworkAccount:
    """A linked account with a working token (the sync decrypts it)."""
    account = NetworkAccountFactory.create(
        network=network, external_id=external_id, user=user, **fields
    )
    ProviderCredential.objects.create(
        user=user,
        provider=provider,
        uid=account.credential_uid,
        access_token_enc=encrypt_token("t0ken"),
    )
    return account


def stored(account: NetworkAccount) -> dict[str, list[str]]:
    """The account's stored posts: external id -> tags."""
    return dict(Post.objects.filter(account=account).values_list("external_id", "tags"))


def linked_post(interaction_key: str) -> str | None:
    """The external id of the post a stored interaction is linked to."""
    row = Interaction.objects.select_related("post").get(source_key=interaction_key)
    return row.post.external_id if row.post else None


# --- X --------------------------------------------------------------------------------------------


def x_tweet(tweet_id: str, text: str, tags: list[str], **fields: Any) -> dict[str, Any]:
    """A post of GET /2/users/:id/tweets with `entities.hashtags` (tweet.fields=entities)."""
    hashtags = [{"start": 0, "end": len(t) + 1, "tag": t} for t in tags]
    return {
        "id": tweet_id,
        "text": text,
        "author_id": "100",
        "created_at": "2026-11-01T10:00:00.000Z",
        "entities": {"hashtags": hashtags},
        **fields,
    }


def register_x(posts: list[dict[str, Any]], *, since: str | None, protected: bool = False) -> None:
    ids = [p["id"] for p in posts]
    meta = {"result_count": len(posts)}
    if ids:
        meta |= {"newest_id": max(ids, key=int), "oldest_id": min(ids, key=int)}
    responses.get(
        f"{X}/tweets",
        json={
            "data": posts,
            "includes": {
                "users": [
                    {"id": "100", "username": "alice", "name": "Alice", "protected": protected}
                ]
            },
            "meta": meta,
        },
        match=[query({"since_id": since, "exclude": "retweets"})],
    )


@responses.activate
def test_x_stores_the_persons_own_posts_with_their_hashtags_once(alice):
    me = link(alice, network="x", provider="twitter_oauth2", external_id="100")
    bob = NetworkAccountFactory.create(network="x", external_id="200", handle="bob")
    register_x(
        [
            x_tweet("21", "Notes on #Python and #QuantumComputing", ["Python", "QuantumComputing"]),
            x_tweet(
                "20",
                "RT @bob: #cats",
                ["cats"],
                referenced_tweets=[{"type": "retweeted", "id": "5"}],
            ),
            x_tweet(
                "19",
                "@bob yes #Python",
                ["Python"],
                referenced_tweets=[{"type": "replied_to", "id": "7"}],
            ),
        ],
        since=None,
    )
    responses.get(
        f"{X}/mentions",
        json={
            "data": [
                {
                    "id": "30",
                    "author_id": "200",
                    "created_at": "2026-11-01T11:00:00.000Z",
                    "text": "@alice great thread",
                    "referenced_tweets": [{"type": "replied_to", "id": "21"}],
                }
            ],
            "includes": {
                "users": [{"id": "200", "username": "bob", "name": "Bob"}],
                "tweets": [{"id": "21", "author_id": "100", "text": "Notes on #Python"}],
            },
            "meta": {"newest_id": "30", "oldest_id": "30", "result_count": 1},
        },
    )

    run = sync_account(account_id=me.pk)

    assert run.status == SyncStatus.SUCCEEDED
    assert stored(me) == {"21": ["Python", "QuantumComputing"], "19": ["Python"]}
    assert Post.objects.get(external_id="19").kind == "reply"
    assert linked_post("tweet:30:reply") == "21"
    me.refresh_from_db()
    assert me.posts_cursor == "21"
    assert me.last_sync_counts["posts"] == 2

    # The next sync asks only for newer posts; one the API sends again is not stored twice.
    responses.reset()
    register_x(
        [
            x_tweet("22", "More #Python", ["Python"]),
            x_tweet("21", "Notes on #Python", ["Python"]),
        ],
        since="21",
    )
    responses.get(f"{X}/mentions", json={"meta": {"result_count": 0}})

    sync_account(account_id=me.pk)

    assert set(stored(me)) == {"22", "21", "19"}
    assert Post.objects.filter(external_id="21").count() == 1
    bob.refresh_from_db()
    assert bob.handle == "bob"


@responses.activate
def test_x_posts_of_a_protected_account_are_not_stored(alice):
    me = link(alice, network="x", provider="twitter_oauth2", external_id="100")
    register_x([x_tweet("21", "#Python", ["Python"])], since=None, protected=True)
    responses.get(f"{X}/mentions", json={"meta": {"result_count": 0}})

    sync_account(account_id=me.pk)

    assert not Post.objects.filter(account=me).exists()
    assert NetworkAccount.objects.hidden().filter(pk=me.pk).exists()


# --- Mastodon -------------------------------------------------------------------------------------


def masto_status(status_id: str, tags: list[str], **fields: Any) -> dict[str, Any]:
    """A Status of GET /api/v1/accounts/:id/statuses (docs.joinmastodon.org entities/Status)."""
    links = "".join(
        f'<a href="{MASTO}/tags/{t}" class="mention hashtag" rel="tag">#<span>{t}</span></a> '
        for t in tags
    )
    return {
        "id": status_id,
        "uri": f"{ALICE_ACTOR}/statuses/{status_id}",
        "url": f"{MASTO}/@alice/{status_id}",
        "created_at": "2026-11-01T10:00:00.000Z",
        "visibility": "public",
        "in_reply_to_id": None,
        "reblog": None,
        "content": f"<p>Today {links}</p>",
        "account": {"id": "109", "acct": "alice", "username": "alice"},
        "tags": [{"name": t.lower(), "url": f"{MASTO}/tags/{t.lower()}"} for t in tags],
        **fields,
    }


@responses.activate
def test_mastodon_stores_public_statuses_with_their_tags_and_links_reactions_to_them(alice):
    me = link(
        alice,
        network="mastodon",
        provider="mastodon",
        external_id=ALICE_ACTOR,
        login_uid="109@social.example",
    )
    boosted = {"id": "9", "uri": "https://other.example/users/bob/statuses/9", "tags": []}
    statuses_url = f"{MASTO}/api/v1/accounts/109/statuses"
    responses.get(
        statuses_url,
        json=[
            masto_status("112", ["Python", "QuantumComputing"]),
            masto_status("111", ["secret"], visibility="private"),
            masto_status("110", [], reblog=boosted),
        ],
        headers={"Link": f'<{statuses_url}?max_id=110>; rel="next"'},
        match=[query({"exclude_reblogs": "true", "since_id": None, "max_id": None})],
    )
    responses.get(statuses_url, json=[], match=[query({"max_id": "110"})])
    responses.get(
        f"{MASTO}/api/v1/notifications",
        json=[
            {
                "id": "50",
                "type": "favourite",
                "created_at": "2026-11-01T11:00:00.000Z",
                "account": {"id": "7", "acct": "bob@other.example", "display_name": "Bob"},
                "status": {"id": "112", "uri": f"{ALICE_ACTOR}/statuses/112"},
            },
            {
                "id": "51",
                "type": "mention",
                "created_at": "2026-11-01T11:30:00.000Z",
                "account": {"id": "7", "acct": "bob@other.example", "display_name": "Bob"},
                "status": {
                    "id": "60",
                    "uri": "https://other.example/users/bob/statuses/60",
                    "in_reply_to_id": "112",
                    "in_reply_to_account_id": "109",
                },
            },
        ],
    )

    sync_account(account_id=me.pk)

    assert stored(me) == {f"{ALICE_ACTOR}/statuses/112": ["python", "quantumcomputing"]}
    assert linked_post("notification:social.example:50") == f"{ALICE_ACTOR}/statuses/112"
    assert linked_post("notification:social.example:51") == f"{ALICE_ACTOR}/statuses/112"
    me.refresh_from_db()
    assert me.posts_cursor == "112"

    responses.reset()
    responses.get(statuses_url, json=[], match=[query({"since_id": "112"})])
    responses.get(f"{MASTO}/api/v1/notifications", json=[])

    run = sync_account(account_id=me.pk)

    assert run.status == SyncStatus.SUCCEEDED
    assert len(stored(me)) == 1


@responses.activate
def test_mastodon_asks_the_server_for_the_accounts_id_when_the_login_does_not_say(alice):
    me = link(alice, network="mastodon", provider="mastodon", external_id=ALICE_ACTOR)
    responses.get(f"{MASTO}/api/v1/accounts/verify_credentials", json={"id": "109"})
    responses.get(f"{MASTO}/api/v1/accounts/109/statuses", json=[masto_status("112", ["Rust"])])
    responses.get(f"{MASTO}/api/v1/notifications", json=[])

    sync_account(account_id=me.pk)

    assert stored(me) == {f"{ALICE_ACTOR}/statuses/112": ["rust"]}


# --- Bluesky --------------------------------------------------------------------------------------


def bsky_post(did: str, rkey: str, text: str, **record: Any) -> dict[str, Any]:
    """A PostView (app.bsky.feed.defs#postView) with its app.bsky.feed.post record."""
    return {
        "uri": f"at://{did}/app.bsky.feed.post/{rkey}",
        "cid": f"bafy{rkey}",
        "author": {"did": did, "handle": "someone.bsky.social"},
        "record": {
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": "2026-11-01T10:00:00.000Z",
            **record,
        },
        "indexedAt": "2026-11-01T10:00:01.000Z",
    }


def tag_facet(text: str, tag: str) -> dict[str, Any]:
    start = text.encode().index(f"#{tag}".encode())
    return {
        "index": {"byteStart": start, "byteEnd": start + len(tag) + 1},
        "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}],
    }


@responses.activate
def test_bluesky_stores_own_posts_with_facet_tags_and_skips_reposts(alice):
    me = link(alice, network="bluesky", provider="bluesky", external_id="did:plc:alice")
    bob = NetworkAccountFactory.create(
        network="bluesky", external_id="did:plc:bob", handle="bob.bsky.social", display_name="Bob"
    )
    text = "Learning #rust today"
    own = bsky_post("did:plc:alice", "3a", text, facets=[tag_facet(text, "rust")], tags=["wasm"])
    reposted = bsky_post("did:plc:bob", "9z", "#python rocks")
    reposted["author"] = {"did": "did:plc:bob", "handle": "b0b.example", "displayName": "Imposter"}
    responses.get(
        BSKY + GET_AUTHOR_FEED,
        json={
            "feed": [
                {
                    "post": reposted,
                    "reason": {
                        "$type": "app.bsky.feed.defs#reasonRepost",
                        "by": {"did": "did:plc:alice", "handle": "alice.bsky.social"},
                        "indexedAt": "2026-11-01T12:00:00.000Z",
                    },
                },
                {"post": own},
            ]
        },
        match=[query({"actor": "did:plc:alice", "cursor": None})],
    )
    responses.get(
        BSKY + LIST_NOTIFICATIONS,
        json={
            "notifications": [
                {
                    "uri": "at://did:plc:bob/app.bsky.feed.like/1",
                    "cid": "bafylike",
                    "author": {"did": "did:plc:bob", "handle": "bob.bsky.social"},
                    "reason": "like",
                    "reasonSubject": own["uri"],
                    "record": {"$type": "app.bsky.feed.like", "subject": {"uri": own["uri"]}},
                    "isRead": False,
                    "indexedAt": "2026-11-01T11:00:00.000Z",
                }
            ]
        },
    )

    sync_account(account_id=me.pk)

    assert stored(me) == {own["uri"]: ["rust", "wasm"]}
    assert not Post.objects.filter(external_id=reposted["uri"]).exists()
    assert linked_post("at://did:plc:bob/app.bsky.feed.like/1:like") == own["uri"]
    bob.refresh_from_db()
    assert (bob.handle, bob.display_name) == ("bob.bsky.social", "Bob")
    me.refresh_from_db()
    assert me.posts_cursor == own["indexedAt"]  # a skipped repost does not move it


# --- Reddit ---------------------------------------------------------------------------------------


def reddit_item(name: str, created: float, subreddit: str, **fields: Any) -> dict[str, Any]:
    """A child of /user/{name}/overview: t3 (submission) or t1 (comment)."""
    data = {
        "name": name,
        "author": "alice_r",
        "subreddit": subreddit,
        "subreddit_type": "public",
        "created_utc": created,
        **fields,
    }
    return {"kind": name[:2], "data": data}


@responses.activate
def test_reddit_stores_submissions_and_comments_tagged_with_their_subreddit(alice):
    me = link(alice, network="reddit", provider="reddit", external_id="alice_r")
    overview = f"{REDDIT}/user/alice_r/overview"
    children = [
        reddit_item("t1_c1", 1_800_000_400.0, "QuantumComputing", body="Use Qiskit"),
        reddit_item("t3_p1", 1_800_000_300.0, "Python", title="My parser", selftext="..."),
        reddit_item("t3_p0", 1_800_000_200.0, "inner", title="x", subreddit_type="private"),
        reddit_item("t3_pu", 1_800_000_100.0, "u_alice_r", title="About me"),
    ]
    listing = {"kind": "Listing", "data": {"children": children, "after": None}}
    responses.get(overview, json=listing)
    reply = {
        "name": "t1_r1",
        "author": "bob",
        "subject": "comment reply",
        "parent_id": "t1_c1",
        "created_utc": 1_800_000_500.0,
    }
    inbox = {"kind": "Listing", "data": {"children": [{"kind": "t1", "data": reply}]}}
    responses.get(f"{REDDIT}/message/inbox", json=inbox)

    sync_account(account_id=me.pk)

    assert stored(me) == {"t1_c1": ["QuantumComputing"], "t3_p1": ["Python"], "t3_pu": []}
    assert Post.objects.get(external_id="t1_c1").kind == "reply"
    assert linked_post("inbox:t1_r1") == "t1_c1"
    me.refresh_from_db()
    assert me.posts_cursor == "1800000400.0"

    # The same listing again: the walk stops at the cursor and nothing is stored twice.
    run = sync_account(account_id=me.pk)

    assert run.status == SyncStatus.SUCCEEDED
    assert Post.objects.filter(account=me).count() == 3


@responses.activate
def test_posts_of_an_opted_out_account_are_not_stored(alice):
    me = link(alice, network="reddit", provider="reddit", external_id="alice_r", opted_out=True)
    children = [reddit_item("t3_p1", 1_800_000_300.0, "Python", title="My parser")]
    responses.get(
        f"{REDDIT}/user/alice_r/overview",
        json={"kind": "Listing", "data": {"children": children, "after": None}},
    )
    responses.get(f"{REDDIT}/message/inbox", json={"kind": "Listing", "data": {"children": []}})

    run = sync_account(account_id=me.pk)

    assert run.status == SyncStatus.SUCCEEDED
    assert not Post.objects.exists()


def register_overview(pages: list[list[tuple[str, float]]]) -> None:
    """/user/alice_r/overview as pages of (fullname, created_utc), each `after` its last item."""
    empty_inbox = {"kind": "Listing", "data": {"children": [], "after": None}}
    responses.get(f"{REDDIT}/message/inbox", json=empty_inbox)
    for i, page in enumerate(pages):
        children = [reddit_item(name, when, "Python", title=name) for name, when in page]
        listing = {"children": children, "after": page[-1][0]}
        after = None if i == 0 else pages[i - 1][-1][0]
        responses.get(
            f"{REDDIT}/user/alice_r/overview",
            json={"kind": "Listing", "data": listing},
            match=[query({"after": after})],
        )


@responses.activate
def test_a_first_posts_walk_reads_only_the_recent_pages(alice, monkeypatch):
    monkeypatch.setattr(RedditProvider, "FIRST_POST_PAGES", 1)
    me = link(alice, network="reddit", provider="reddit", external_id="alice_r")
    register_overview([[("t3_p2", 1_800_000_200.0)], [("t3_p1", 1_800_000_100.0)]])

    tasks.sync_account.delay(me.pk)

    me.refresh_from_db()
    assert set(stored(me)) == {"t3_p2"}
    assert me.posts_cursor == "1800000200.0"  # a plain cursor: no catch-up of older history
    assert SyncRun.objects.filter(account=me).count() == 1


@responses.activate
def test_a_posts_walk_cut_short_by_the_page_budget_continues_until_the_gap_is_closed(
    alice, monkeypatch
):
    monkeypatch.setattr(RedditProvider, "MAX_PAGES", 1)
    me = link(
        alice,
        network="reddit",
        provider="reddit",
        external_id="alice_r",
        posts_cursor="1800000100.0",
    )
    register_overview(
        [[("t3_p4", 1_800_000_400.0)], [("t3_p3", 1_800_000_300.0)], [("t3_p1", 1_800_000_100.0)]]
    )

    tasks.sync_account.delay(me.pk)  # eager: each continuation runs at once

    me.refresh_from_db()
    runs = list(SyncRun.objects.filter(account=me).order_by("pk"))
    assert [r.status for r in runs] == [SyncStatus.SUCCEEDED] * 3
    assert parse_resume(runs[0].options["posts_cursor"]) is not None
    assert set(stored(me)) == {"t3_p4", "t3_p3"}  # t3_p1 is older than the cursor: seen before
    assert me.posts_cursor == "1800000400.0"


# --- GitHub ---------------------------------------------------------------------------------------


def repo(repo_id: int, name: str, **fields: Any) -> dict[str, Any]:
    """A repository of GET /user/repos (docs "List repositories for the authenticated user")."""
    return {
        "id": repo_id,
        "name": name,
        "full_name": f"alice/{name}",
        "owner": {"id": 1, "login": "alice"},
        "private": False,
        "fork": False,
        "description": f"{name} in a few words",
        "topics": [],
        "language": None,
        "created_at": f"2026-10-{repo_id:02d}T10:00:00Z",
        **fields,
    }


@responses.activate
def test_github_stores_own_public_repositories_tagged_with_topics_and_language(alice):
    me = link(alice, network="github", provider="github", external_id="1")
    qsim = repo(11, "qsim", topics=["quantum-computing", "simulation"], language="Python")
    responses.get(
        f"{GITHUB}/user/repos",
        json=[
            repo(13, "secret", private=True, language="Go"),
            repo(12, "their-lib", fork=True, language="C"),
            qsim,
        ],
        match=[query({"type": "owner", "sort": "created", "direction": "desc"})],
    )
    responses.get(f"{GITHUB}/user/repos", json=[qsim], match=[query({"sort": "pushed"})])
    responses.get(
        f"{GITHUB}/repos/alice/qsim/stargazers",
        json=[{"starred_at": "2026-11-01T10:00:00Z", "user": {"id": 2, "login": "bob"}}],
    )
    responses.get(f"{GITHUB}/repos/alice/qsim/forks", json=[])
    responses.get(f"{GITHUB}/repos/alice/qsim/issues/comments", json=[])

    sync_account(account_id=me.pk)

    assert stored(me) == {repo_post(11): ["quantum-computing", "simulation", "Python"]}
    assert linked_post("star:alice/qsim:2") == repo_post(11)
    me.refresh_from_db()
    assert me.posts_cursor == qsim["created_at"]


# --- YouTube --------------------------------------------------------------------------------------


@responses.activate
def test_youtube_stores_public_uploads_with_their_tags(alice):
    me = link(alice, network="youtube", provider="google", external_id="UCalice")
    responses.get(
        CHANNELS,
        json={
            "kind": "youtube#channelListResponse",
            "items": [
                {
                    "kind": "youtube#channel",
                    "id": "UCalice",
                    "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": "UUalice"}},
                }
            ],
        },
        match=[query({"id": "UCalice", "part": "contentDetails"})],
    )

    def upload(video_id: str, when: str | None) -> dict[str, Any]:
        details = {"videoId": video_id} | ({"videoPublishedAt": when} if when else {})
        return {"kind": "youtube#playlistItem", "id": f"pl{video_id}", "contentDetails": details}

    responses.get(
        PLAYLIST_ITEMS,
        json={
            "kind": "youtube#playlistItemListResponse",
            "items": [
                upload("v2", "2026-11-01T09:00:00Z"),
                upload("v1", "2026-10-30T09:00:00Z"),
                upload("v0", None),  # deleted: no publish time
            ],
            "pageInfo": {"totalResults": 3, "resultsPerPage": 50},
        },
        match=[query({"playlistId": "UUalice", "pageToken": None})],
    )

    def video(video_id: str, tags: list[str], privacy: str, when: str) -> dict[str, Any]:
        snippet = {"channelId": "UCalice", "publishedAt": when, "title": f"Video {video_id}"}
        return {
            "kind": "youtube#video",
            "id": video_id,
            "snippet": snippet | ({"tags": tags} if tags else {}),
            "status": {"privacyStatus": privacy},
        }

    responses.get(
        VIDEOS,
        json={
            "items": [
                video("v2", ["secret plans"], "private", "2026-11-01T09:00:00Z"),
                video("v1", ["python", "tutorial"], "public", "2026-10-30T09:00:00Z"),
            ]
        },
        match=[query({"id": "v2,v1", "part": "snippet,status"})],
    )
    responses.get(
        COMMENT_THREADS,
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

    sync_account(account_id=me.pk)

    assert stored(me) == {"v1": ["python", "tutorial"]}
    assert linked_post("comment:c1") == "v1"
    me.refresh_from_db()
    assert me.posts_cursor == "2026-10-30T09:00:00Z"


# --- The one outbound client ----------------------------------------------------------------------

POSTS_URLS = [
    ("x", XProvider, "100", "", f"{X}/tweets"),
    (
        "mastodon",
        MastodonProvider,
        ALICE_ACTOR,
        "109@social.example",
        f"{MASTO}/api/v1/accounts/109/statuses",
    ),
    ("bluesky", BlueskyProvider, "did:plc:alice", "", BSKY + GET_AUTHOR_FEED),
    ("reddit", RedditProvider, "alice_r", "", f"{REDDIT}/user/alice_r/overview"),
    ("github", GitHubProvider, "1", "", f"{GITHUB}/user/repos"),
    ("youtube", YouTubeProvider, "UCalice", "", CHANNELS),
]


@pytest.mark.parametrize(
    ("network", "provider_cls", "external_id", "login_uid", "url"),
    POSTS_URLS,
    ids=[row[0] for row in POSTS_URLS],
)
@responses.activate
def test_every_posts_walk_goes_through_the_outbound_client_and_refuses_a_redirect_inside(
    network, provider_cls, external_id, login_uid, url
):
    """The posts walks use the providers' one client (klout/outbound.py): a redirect to the
    metadata address is refused, with one request made and no retry suggested."""
    responses.get(url, status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    account = NetworkAccount(network=network, external_id=external_id, login_uid=login_uid)

    with pytest.raises(ProviderError) as caught:
        provider_cls().fetch_posts_since(account, Credential("t0ken"), "")

    assert len(responses.calls) == 1
    assert not caught.value.transient
    assert responses.calls[0].request.headers["Authorization"] == "Bearer t0ken"


# --- Paging of the posts walks with their own loops (X, Mastodon) ---------------------------------


def serve_x_pages() -> None:
    """Own posts 1006, 1005 (page 1) and 1004, 1003 (page 2), by `pagination_token` or, when
    resumed, by `until_id` below the oldest id seen (docs.x.com "Pagination")."""
    pages = [["1006", "1005"], ["1004", "1003"]]
    for i, ids in enumerate(pages):
        meta: dict[str, object] = {"result_count": 2, "newest_id": ids[0], "oldest_id": ids[-1]}
        if i == 0:
            meta["next_token"] = "tok1"
        body = {"data": [x_tweet(n, f"#t{n}", [f"t{n}"]) for n in ids], "meta": meta}
        ways: list[dict[str, str | None]] = (
            [{"pagination_token": None, "until_id": None}]
            if i == 0
            else [{"pagination_token": "tok1"}, {"until_id": "1005"}]
        )
        for way in ways:
            responses.get(f"{X}/tweets", json=body, match=[query(way)])


def serve_mastodon_pages() -> None:
    """Own statuses 106, 105 and 104, 103, then an empty page; `Link` rel="next" with max_id."""
    url = f"{MASTO}/api/v1/accounts/109/statuses"
    pages = [["106", "105"], ["104", "103"], []]
    for i, ids in enumerate(pages):
        max_id = None if i == 0 else pages[i - 1][-1]
        headers = {"Link": f'<{url}?max_id={ids[-1]}>; rel="next"'} if ids else {}
        body = [masto_status(n, [f"t{n}"]) for n in ids]
        responses.get(url, json=body, headers=headers, match=[query({"max_id": max_id})])


WALKS = {
    # name: (provider, serve, account, cursor one below the oldest post, the newest post's id)
    "x": (XProvider, serve_x_pages, NetworkAccount(network="x", external_id="100"), "1002", "1006"),
    "mastodon": (
        MastodonProvider,
        serve_mastodon_pages,
        NetworkAccount(network="mastodon", external_id=ALICE_ACTOR, login_uid="109@social.example"),
        "102",
        "106",
    ),
}


@pytest.mark.parametrize("name", list(WALKS))
@responses.activate
def test_a_first_posts_walk_stops_after_the_recent_pages_with_a_plain_cursor(name, monkeypatch):
    cls, serve, who, _since, newest = WALKS[name]
    serve()
    monkeypatch.setattr(cls, "FIRST_POST_PAGES", 1)

    result = cls().fetch_posts_since(who, Credential("t0ken"), "")

    assert len(result.posts) == 2
    assert len(responses.calls) == 1
    assert not result.has_more
    assert result.next_cursor == newest


@pytest.mark.parametrize("name", list(WALKS))
@responses.activate
def test_a_posts_walk_out_of_pages_resumes_down_to_its_cursor(name, monkeypatch):
    cls, serve, who, since, newest = WALKS[name]
    serve()
    monkeypatch.setattr(cls, "MAX_PAGES", 1)
    provider = cls()

    first = provider.fetch_posts_since(who, Credential("t0ken"), since)
    collected = [p.external_id for p in first.posts]
    cursor = first.next_cursor
    for _ in range(4):
        if parse_resume(cursor) is None:
            break
        more = provider.fetch_posts_since(who, Credential("t0ken"), cursor)
        collected += [p.external_id for p in more.posts]
        cursor = more.next_cursor

    assert first.has_more
    assert len(collected) == 4 == len(set(collected))
    assert cursor == newest
