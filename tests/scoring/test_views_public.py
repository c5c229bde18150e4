"""Public pages: profiles, search, leaderboards, the embeddable badge and "about the score"."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from networks.models import Network
from tests.factories.accounts import UserFactory
from tests.factories.networks import NetworkAccountFactory
from tests.factories.scoring import score_history

pytestmark = pytest.mark.django_db


def _count(client: Client, url: str, **headers: str) -> int:
    """Queries for one request with a cold cache (the worst case)."""
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, headers=headers).status_code in (200, 304)
    return len(ctx.captured_queries)


def scored(handle: str, *, days: int = 3, score: float = 55.0, **account: object):
    """A public account with `days` of published history and a latest score of `score`."""
    acct = NetworkAccountFactory.create(handle=handle, **account)
    score_history(account=acct, days=days, score=score)
    return acct


# --- public profile ---------------------------------------------------------------------------


def test_profile_shows_score_history_style_and_influencers(client: Client) -> None:
    carol = NetworkAccountFactory.create(handle="carol")
    dave = scored("dave", days=30, score=61.0, display_name="Dave D")
    acct = NetworkAccountFactory.create(handle="erin", network=Network.MASTODON)
    score_history(
        account=acct,
        days=30,
        score=61.0,
        influencers=[{"account_id": carol.pk, "network": "dev", "handle": "carol", "weight": 2}],
    )
    body = client.get("/u/mastodon/erin").content.decode()
    assert '<p class="score-big">61</p>' in body
    assert body.count('class="dot"') == 30
    assert "Conversationalist" in body
    assert 'href="/u/dev/carol"' in body
    assert client.get(f"/u/dev/{dave.handle}").status_code == 200


def test_profile_of_an_unclaimed_account_offers_claim_or_opt_out(client: Client) -> None:
    scored("frank")
    body = client.get("/u/dev/frank").content.decode()
    assert "This account is not claimed" in body
    assert "Claim it" in body
    assert "opt out" in body


def test_profile_of_a_claimed_account_does_not_offer_a_claim(client: Client, alice) -> None:
    scored("alice_dev", user=alice)
    body = client.get("/u/dev/alice_dev").content.decode()
    assert "This account is not claimed" not in body


@pytest.mark.parametrize(
    "flags", [{"opted_out": True}, {"protected": True}], ids=["opted-out", "protected"]
)
def test_profile_of_hidden_accounts_is_404(client: Client, flags: dict[str, bool]) -> None:
    scored("hidden", **flags)
    assert client.get("/u/dev/hidden").status_code == 404


def test_profile_of_an_opted_out_person_is_404(client: Client) -> None:
    scored("gone", user=UserFactory.create(opted_out=True))
    assert client.get("/u/dev/gone").status_code == 404


def test_profile_with_hidden_read_model_row_is_404(client: Client) -> None:
    acct = NetworkAccountFactory.create(handle="quiet")
    score_history(account=acct, days=2, latest={"hidden": True})
    assert client.get("/u/dev/quiet").status_code == 404


@pytest.mark.parametrize("url", ["/u/dev/nobody", "/u/notanetwork/someone", "/u/dev/" + "x" * 5000])
def test_profile_of_unknown_accounts_is_a_clear_404(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert "We could not find that" in response.content.decode()


def test_profile_query_count_is_constant_in_history_and_influencers(client: Client) -> None:
    people = NetworkAccountFactory.create_batch(10)
    entries = [{"account_id": p.pk, "network": "dev", "handle": p.handle} for p in people]
    short = NetworkAccountFactory.create(handle="short")
    score_history(account=short, days=5, influencers=entries[:1])
    acct = NetworkAccountFactory.create(handle="long")
    score_history(account=acct, days=90, influencers=entries, influencees=entries)
    assert _count(client, "/u/dev/short") == _count(client, "/u/dev/long") <= 6


# --- search ----------------------------------------------------------------------------------


def test_search_finds_accounts_by_handle_prefix_and_name(client: Client) -> None:
    scored("gracehopper", display_name="Grace Hopper")
    scored("adalovelace", display_name="Ada Lovelace")
    by_handle = client.get("/search/", {"q": "grace"}).content.decode()
    by_name = client.get("/search/", {"q": "lovelace"}).content.decode()
    assert "/u/dev/gracehopper" in by_handle
    assert "adalovelace" not in by_handle
    assert "/u/dev/adalovelace" in by_name


def test_search_never_shows_hidden_accounts(client: Client) -> None:
    scored("secretive", opted_out=True)
    scored("secretpro", protected=True)
    scored("secretperson", user=UserFactory.create(opted_out=True))
    body = client.get("/search/", {"q": "secret"}).content.decode()
    assert "Nobody matches" in body


def test_search_fragment_returns_only_results_for_htmx(client: Client) -> None:
    scored("heidi")
    response = client.get(
        "/search/", {"q": "hei"}, headers={"HX-Request": "true", "HX-Target": "results"}
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="results"')
    assert "/u/dev/heidi" in body


def test_search_form_works_without_javascript(client: Client) -> None:
    body = client.get("/search/").content.decode()
    assert '<form method="get" action="/search/"' in body
    assert 'hx-trigger="keyup changed delay:300ms' in body


def test_search_refuses_huge_queries_with_a_clear_message(client: Client) -> None:
    response = client.get("/search/", {"q": "a" * 10_000})
    assert response.status_code == 200
    assert "10,000 characters long" in response.content.decode()


def test_search_query_count_is_constant_in_results(client: Client) -> None:
    for i in range(15):
        scored(f"ivan{i}", days=1)
    scored("judy", days=1)
    assert _count(client, "/search/?q=judy") == _count(client, "/search/?q=ivan") == 1


def test_search_fragment_query_count_is_one(client: Client) -> None:
    for i in range(15):
        scored(f"oscar{i}", days=1)
    assert _count(client, "/search/?q=oscar", HX_Request="true", HX_Target="results") == 1


def test_search_of_an_empty_or_blank_query_runs_no_query(client: Client) -> None:
    assert _count(client, "/search/?q=%20%20") == 0


# --- leaderboards ----------------------------------------------------------------------------


def test_leaderboard_ranks_visible_accounts_highest_first(client: Client) -> None:
    scored("low", days=1, score=20.0)
    scored("high", days=1, score=90.0)
    scored("hiddenhigh", days=1, score=99.0, opted_out=True)
    body = client.get("/leaderboard/").content.decode()
    assert body.index("@high") < body.index("@low")
    assert "hiddenhigh" not in body


def test_leaderboard_per_network_shows_only_that_network(client: Client) -> None:
    scored("onmastodon", days=1, network=Network.MASTODON)
    scored("ondev", days=1)
    body = client.get("/leaderboard/mastodon/").content.decode()
    assert "onmastodon" in body
    assert "ondev" not in body


def test_leaderboard_of_an_unknown_network_is_404(client: Client) -> None:
    assert client.get("/leaderboard/myspace/").status_code == 404


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ("99", "There is no page 99"),
        ("abc", "not a page number"),
        ("-3", "not a page number"),
        ("9" * 40, "not a page number"),
    ],
)
def test_leaderboard_pages_past_the_end_or_garbage_say_so(client: Client, page, message) -> None:
    scored("only", days=1)
    response = client.get("/leaderboard/", {"page": page})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "@only" in response.content.decode()


def test_leaderboard_query_count_is_constant_in_rows(client: Client) -> None:
    scored("first", days=1)
    one = _count(client, "/leaderboard/")
    for i in range(30):
        scored(f"more{i}", days=1)
    assert _count(client, "/leaderboard/") == one <= 5


# --- badge -----------------------------------------------------------------------------------


def test_badge_is_svg_with_the_score_cache_headers_and_etag(client: Client) -> None:
    scored("kim", days=1, score=73.0)
    response = client.get("/badge/dev/kim.svg")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert ">73</text>" in response.content.decode()
    assert "public" in response["Cache-Control"]
    assert "max-age=300" in response["Cache-Control"]
    assert response["ETag"]


def test_badge_answers_304_when_the_etag_matches(client: Client) -> None:
    scored("lee", days=1)
    etag = client.get("/badge/dev/lee.svg")["ETag"]
    response = client.get("/badge/dev/lee.svg", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""


def test_an_opted_out_badge_stops_being_served_within_minutes(client: Client) -> None:
    from accounts.services import opt_out_person

    person = UserFactory.create()
    scored("ora", days=1, user=person)
    first = client.get("/badge/dev/ora.svg")
    max_age = int(first["Cache-Control"].split("max-age=", 1)[1].split(",", 1)[0])

    opt_out_person(user_id=person.pk)
    revalidated = client.get("/badge/dev/ora.svg", headers={"If-None-Match": first["ETag"]})

    assert max_age <= 5 * 60  # caches keep it for minutes at most, then revalidate
    assert revalidated.status_code == 404


def test_badge_of_hidden_or_unknown_accounts_is_404(client: Client) -> None:
    scored("mia", days=1, opted_out=True)
    assert client.get("/badge/dev/mia.svg").status_code == 404
    assert client.get("/badge/dev/nobody.svg").status_code == 404


def test_badge_needs_one_query_also_when_not_modified(client: Client) -> None:
    scored("ned", days=1)
    assert _count(client, "/badge/dev/ned.svg") == 1
    etag = client.get("/badge/dev/ned.svg")["ETag"]
    assert _count(client, "/badge/dev/ned.svg", If_None_Match=etag) == 1


# --- about -----------------------------------------------------------------------------------


def test_about_explains_the_method_and_credits_datasets(client: Client, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    body = client.get("/about/").content.decode()
    for words in (
        "action, not activity",
        "True Reach",
        "Amplification",
        "Selectivity",
        "Anti-gaming",
        "Decay",
        "Calibration per version",
        "never rewritten",
        "Anomaly guard",
        "opt out",
        "make evaluate",
        "SNAP",
        "CollegeMsg",
        "CC BY-SA",
        "CC BY 3.0",
        "Klout Topic Ontology",
        "arXiv:1710.09824",
    ):
        assert words in body, words


def test_about_renders_evaluation_results_when_present(client: Client, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    (tmp_path / "evaluation.json").write_text(
        json.dumps(
            {
                "dataset": "higgs",
                "spearman": 0.4123456,
                "results": [
                    {"model": "klout-v1", "auc": 0.71},
                    {"model": "followers", "auc": 0.55},
                ],
            }
        )
    )
    body = client.get("/about/").content.decode()
    assert "0.412" in body
    assert "klout-v1" in body
    assert "0.710" in body
    assert "make evaluate" not in body


def test_about_survives_a_broken_evaluation_file(client: Client, settings, tmp_path) -> None:
    settings.VAR_DIR = tmp_path
    (tmp_path / "evaluation.json").write_text("{not json")
    response = client.get("/about/")
    assert response.status_code == 200
    assert "make evaluate" in response.content.decode()


def test_about_and_home_need_no_queries_for_anonymous_visitors(client: Client) -> None:
    assert _count(client, "/about/") == 0


def test_leaderboard_names_networks_for_people_not_machines(client) -> None:
    account = NetworkAccountFactory.create(network="stackexchange", handle="qbit")
    score_history(account=account, days=2)
    body = client.get("/leaderboard/").content.decode()
    assert '<td class="wide-only">Stack Exchange</td>' in body
