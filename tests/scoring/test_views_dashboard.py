"""The dashboard: score card, history chart, explanations, people, notices, linked networks."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Notification
from accounts.services import opt_out_person
from scoring.kloutids import klout_id_of
from scoring.models import RunStatus
from scoring.services import publish_run
from tests.factories.networks import NetworkAccountFactory
from tests.factories.scoring import (
    AlgorithmVersionFactory,
    DailyScoreFactory,
    ExplanationFactory,
    ScoringRunFactory,
    score_history,
)

pytestmark = pytest.mark.django_db


YESTERDAY = dt.date.today() - dt.timedelta(days=1)


def _htmx(client: Client, url: str, target: str) -> bytes:
    response = client.get(url, headers={"HX-Request": "true", "HX-Target": target})
    assert response.status_code == 200
    return response.content


def test_dashboard_sends_anonymous_visitors_to_sign_in(client: Client) -> None:
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_dashboard_explains_how_to_link_a_network_to_a_new_user(charlie_client: Client) -> None:
    response = charlie_client.get("/dashboard/")
    assert response.status_code == 200
    assert b"Link your first network" in response.content
    assert b"/settings/accounts/" in response.content


def test_dashboard_shows_score_band_and_changes(alice, alice_client: Client) -> None:
    score_history(user=alice, score=47.0, latest={"change_1d": 2.5, "change_7d": -1.0})
    body = alice_client.get("/dashboard/").content.decode()
    assert '<p class="score-big">47</p>' in body
    assert "Band 40-49" in body
    assert "▲ 2.5" in body
    assert "▼ -1.0" in body


def test_dashboard_history_chart_is_accessible_svg_with_a_data_table(alice, alice_client) -> None:
    score_history(user=alice, days=90)
    body = alice_client.get("/dashboard/").content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in body
    assert '<title id="history-title">Your score over the last 90 days</title>' in body
    assert body.count('class="dot"') == 90
    assert 'data-toggle="history-table"' in body
    assert body.count('<tr><td><a href="?day=') == 90


def test_dashboard_chart_marks_held_days_and_version_changes(alice, alice_client) -> None:
    old = AlgorithmVersionFactory.create(name="v1", is_current=False)
    score_history(user=alice, days=10, end=YESTERDAY - dt.timedelta(days=10), version=old).delete()
    score_history(
        user=alice, days=10, version=AlgorithmVersionFactory.create(name="v2", is_current=False)
    )
    ScoringRunFactory.create(
        day=YESTERDAY - dt.timedelta(days=3), version=old, status=RunStatus.HELD
    )
    body = alice_client.get("/dashboard/").content.decode()
    assert 'class="held"' in body
    assert "held back for review" in body
    assert 'class="version-change"' in body
    assert "algorithm v2 starts" in body


def test_dashboard_explains_the_latest_day_by_default(alice, alice_client) -> None:
    latest = score_history(user=alice, days=5)
    ExplanationFactory.create(score=latest.daily, points=2.1, text="14 new people shared your post")
    body = alice_client.get("/dashboard/").content.decode()
    assert "+2.1" in body
    assert "14 new people shared your post" in body


def test_dashboard_explains_the_chosen_day(alice, alice_client) -> None:
    latest = score_history(user=alice, days=5)
    earlier = alice.daily_scores.get(day=YESTERDAY - dt.timedelta(days=2))
    ExplanationFactory.create(score=earlier, points=-0.7, text="Older reactions count less now")
    ExplanationFactory.create(score=latest.daily, text="only on the latest day")
    body = alice_client.get(f"/dashboard/?day={earlier.day.isoformat()}").content.decode()
    assert "Older reactions count less now" in body
    assert "only on the latest day" not in body


def test_dashboard_day_fragment_returns_only_the_explanations(alice, alice_client) -> None:
    score_history(user=alice, days=5)
    day = YESTERDAY - dt.timedelta(days=1)
    ExplanationFactory.create(
        score=alice.daily_scores.get(day=day), text="Your reply started a thread"
    )
    body = _htmx(alice_client, f"/dashboard/?day={day.isoformat()}", "explanations").decode()
    assert body.lstrip().startswith('<div id="explanations"')
    assert "Your reply started a thread" in body
    assert "<html" not in body


def test_dashboard_day_links_have_an_href_fallback_and_target_the_fragment(alice, alice_client):
    score_history(user=alice, days=3)
    body = alice_client.get("/dashboard/").content.decode()
    day = YESTERDAY.isoformat()
    assert f'href="?day={day}" hx-get="?day={day}" hx-target="#explanations"' in body


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("not-a-date", "That is not a date"),
        ("2026-13-45", "That is not a date"),
        ("9" * 5000, "That is not a date"),
        ("2999-01-01", "is in the future"),
        ("1900-01-01", "before the first day anyone was scored"),
    ],
)
def test_dashboard_answers_bad_days_with_a_clear_message(alice, alice_client, raw, message):
    score_history(user=alice, days=3)
    page = alice_client.get("/dashboard/", {"day": raw})
    fragment = alice_client.get(
        "/dashboard/", {"day": raw}, headers={"HX-Request": "true", "HX-Target": "explanations"}
    )
    assert page.status_code == fragment.status_code == 200
    assert message in page.content.decode()
    assert message in fragment.content.decode()


def test_dashboard_says_when_a_day_has_no_published_score(alice, alice_client) -> None:
    score_history(user=alice, days=3)
    body = alice_client.get("/dashboard/?day=2020-02-02").content.decode()
    assert "No published score for Feb 2, 2020" in body


def test_dashboard_never_shows_alice_data_to_charlie(alice, charlie, charlie_client) -> None:
    latest = score_history(user=alice, score=77.0)
    ExplanationFactory.create(score=latest.daily, text="alice-only explanation")
    page = charlie_client.get("/dashboard/").content.decode()
    fragment = _htmx(
        charlie_client, f"/dashboard/?day={YESTERDAY.isoformat()}", "explanations"
    ).decode()
    for body in (page, fragment):
        assert "alice-only explanation" not in body
        assert ">77<" not in body


def test_dashboard_links_influencers_to_profiles_but_never_names_hidden_ones(alice, alice_client):
    shown = NetworkAccountFactory.create(handle="carol")
    gone = NetworkAccountFactory.create(handle="dave", opted_out=True)
    score_history(
        user=alice,
        influencers=[
            {"account_id": shown.pk, "network": shown.network, "handle": "carol", "weight": 3},
            {"account_id": gone.pk, "network": gone.network, "handle": "dave", "weight": 2},
        ],
    )
    body = alice_client.get("/dashboard/").content.decode()
    assert f'href="/u/{shown.network}/carol"' in body
    assert "dave" not in body


def test_dashboard_shows_the_posts_that_drove_action(alice, alice_client) -> None:
    score_history(
        user=alice,
        moments=[{"post_id": 7, "text": "My sourdough thread", "posted_at": None, "actions": 40}],
    )
    body = alice_client.get("/dashboard/").content.decode()
    assert "“My sourdough thread”" in body
    assert "40 actions" in body


def test_dashboard_warns_about_decay_when_idle(alice, alice_client) -> None:
    score_history(user=alice, last_activity_at=timezone.now() - dt.timedelta(days=30))
    assert b"Your score is decaying" in alice_client.get("/dashboard/").content


def test_dashboard_shows_no_decay_notice_when_active(alice, alice_client) -> None:
    score_history(user=alice, last_activity_at=timezone.now() - dt.timedelta(days=1))
    assert b"Your score is decaying" not in alice_client.get("/dashboard/").content


def test_dashboard_lists_linked_networks_with_sync_state(alice, alice_client) -> None:
    NetworkAccountFactory.create(user=alice, handle="alice_m", needs_reconnect=True)
    NetworkAccountFactory.create(user=alice, handle="alice_b", last_synced_at=timezone.now())
    score_history(user=alice, days=2)
    body = alice_client.get("/dashboard/").content.decode()
    assert "alice_m" in body
    assert "needs reconnecting" in body
    assert "synced" in body


def test_dashboard_designs_in_topics_achievements_and_perks(alice, alice_client) -> None:
    score_history(user=alice, days=2)
    body = alice_client.get("/dashboard/").content.decode()
    for section in ('id="topics"', 'id="my-achievements"', 'id="improve"', 'id="perks"'):
        assert section in body


def test_dashboard_summarises_unread_notifications(alice, charlie, alice_client) -> None:
    score_history(user=alice, days=2)
    Notification.objects.create(user=alice, kind="score_moved", title="Your score rose by 5")
    Notification.objects.create(user=charlie, kind="score_moved", title="charlie-only notice")
    body = alice_client.get("/dashboard/").content.decode()
    assert "1 unread notification" in body
    assert "Your score rose by 5" in body
    assert "charlie-only notice" not in body


def _count(client: Client, url: str, **headers: str) -> int:
    """Queries for one request with a cold cache (the worst case)."""
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, headers=headers).status_code == 200
    return len(ctx.captured_queries)


def test_dashboard_query_count_is_constant_in_history_people_and_notifications(
    alice, charlie, alice_client, charlie_client
) -> None:
    def people(n: int) -> list[dict[str, object]]:
        accounts = NetworkAccountFactory.create_batch(n)
        return [
            {"account_id": a.pk, "network": a.network, "handle": a.handle, "weight": 1}
            for a in accounts
        ]

    score_history(user=alice, days=5, influencers=people(1), influencees=people(1))
    score_history(user=charlie, days=90, influencers=people(12), influencees=people(12))
    Notification.objects.create(user=alice, kind="k", title="one")
    for i in range(10):
        Notification.objects.create(user=charlie, kind="k", title=f"n{i}")
    assert _count(alice_client, "/dashboard/") == _count(charlie_client, "/dashboard/")
    # 12 for the score card and the rest, 3 for the topics card (kloutId, topics, hidden ones)
    assert _count(charlie_client, "/dashboard/") <= 15
    day = f"/dashboard/?day={(YESTERDAY - dt.timedelta(days=2)).isoformat()}"
    few = _count(alice_client, day, HX_Request="true", HX_Target="explanations")
    many = _count(charlie_client, day, HX_Request="true", HX_Target="explanations")
    assert few == many <= 6


def test_dashboard_warm_cache_runs_only_the_per_request_queries(alice, alice_client) -> None:
    carol = NetworkAccountFactory.create(handle="carol")
    score_history(
        user=alice,
        days=30,
        influencers=[{"account_id": carol.pk, "network": "dev", "handle": "carol", "weight": 1}],
    )
    klout_id_of(user_id=alice.pk)  # as publishing her first score does
    cold = _count(alice_client, "/dashboard/")
    with CaptureQueriesContext(connection) as warm:
        body = alice_client.get("/dashboard/").content.decode()
    # only what changes per request: user, which score, unread notifications, linked accounts
    # (+ the session without Redis), and the topics card (its topics and the hidden ones: hiding
    # a topic shows at once); the history, chart and people come from the cache
    assert len(warm.captured_queries) <= 7 < cold
    assert 'href="/u/dev/carol"' in body
    assert body.count('class="dot"') == 30


def test_dashboard_shows_a_newly_published_day_at_once(alice, alice_client) -> None:
    # given alice's dashboard already rendered (and cached) for the day before yesterday
    score_history(user=alice, days=5, end=YESTERDAY - dt.timedelta(days=1))
    assert b'<p class="score-big">88</p>' not in alice_client.get("/dashboard/").content
    # when yesterday's run is published with a new score and its explanation
    run = ScoringRunFactory.create(day=YESTERDAY, status=RunStatus.COMPUTING)
    daily = DailyScoreFactory.create(run=run, user=alice, account=None, score=88.0)
    ExplanationFactory.create(score=daily, text="A thread of yours went far")
    publish_run(run_id=run.pk)
    # then the very next page view shows the new score, day and explanation
    body = alice_client.get("/dashboard/").content.decode()
    assert '<p class="score-big">88</p>' in body
    assert "A thread of yours went far" in body
    assert body.count('class="dot"') == 6


def test_dashboard_explains_another_day_while_the_default_view_is_cached(alice, alice_client):
    latest = score_history(user=alice, days=5)
    earlier = alice.daily_scores.get(day=YESTERDAY - dt.timedelta(days=3))
    ExplanationFactory.create(score=earlier, text="earlier day reason")
    ExplanationFactory.create(score=latest.daily, text="latest day reason")
    assert b"latest day reason" in alice_client.get("/dashboard/").content
    body = alice_client.get(f"/dashboard/?day={earlier.day.isoformat()}").content.decode()
    assert "earlier day reason" in body
    assert "latest day reason" not in body
    assert f'value="{earlier.day.isoformat()}"' in body
    assert b"latest day reason" in alice_client.get("/dashboard/").content


def test_dashboard_stops_naming_an_influencer_who_opts_out_at_once(
    alice, bob, alice_client, django_capture_on_commit_callbacks
) -> None:
    # given bob's account is among alice's influencers on her cached dashboard
    bobs = NetworkAccountFactory.create(handle="bob_dev", user=bob)
    score_history(
        user=alice,
        influencers=[{"account_id": bobs.pk, "network": bobs.network, "handle": "bob_dev"}],
    )
    assert b"bob_dev" in alice_client.get("/dashboard/").content
    # when bob opts out (the privacy epoch moves on commit)
    with django_capture_on_commit_callbacks(execute=True):
        opt_out_person(user_id=bob.pk)
    # then alice's next page view keeps the slot but never the name
    body = alice_client.get("/dashboard/").content.decode()
    assert "bob_dev" not in body
    assert "someone who keeps their account private" in body


def test_dashboard_drops_read_notifications_at_once(alice, alice_client) -> None:
    notification = Notification
    score_history(user=alice, days=3)
    notification.objects.create(user=alice, kind="score_moved", title="Your score rose by 5")
    body = alice_client.get("/dashboard/").content.decode()
    assert "1 unread notification" in body
    assert 'id="unread-count">1<' in body
    assert alice_client.post("/notifications/").status_code == 302
    body = alice_client.get("/dashboard/").content.decode()
    assert "unread notification" not in body
    assert 'id="unread-count"' not in body


def test_dashboard_counts_more_unread_notifications_than_it_lists(alice, alice_client) -> None:
    notification = Notification
    score_history(user=alice, days=3)
    for i in range(5):
        notification.objects.create(user=alice, kind="k", title=f"notice {i}")
    body = alice_client.get("/dashboard/").content.decode()
    assert "5 unread notifications" in body
    assert 'id="unread-count">5<' in body
    assert body.count("notice ") == 3


def test_dashboard_cached_for_one_person_is_never_served_to_another(
    alice, charlie, alice_client, charlie_client
) -> None:
    score_history(user=alice, score=77.0, days=3)
    score_history(user=charlie, score=33.0, days=3)
    for _ in range(2):
        alice_body = alice_client.get("/dashboard/").content.decode()
        charlie_body = charlie_client.get("/dashboard/").content.decode()
        assert '<p class="score-big">77</p>' in alice_body
        assert '<p class="score-big">33</p>' in charlie_body
        assert ">77<" not in charlie_body


def test_dashboard_csrf_token_belongs_to_each_session_even_from_cache(alice) -> None:
    score_history(user=alice, days=3)
    sessions = [Client(enforce_csrf_checks=True) for _ in range(2)]
    tokens = []
    for client in sessions:  # the second page's bulk comes from the cache
        client.force_login(alice)
        body = client.get("/dashboard/").content.decode()
        found = re.search(r'"X-CSRFToken": "([^"]+)"', body)
        assert found is not None
        tokens.append(found.group(1))
    assert tokens[0] != tokens[1]
    for client, token in zip(sessions, tokens, strict=True):
        response = client.post("/notifications/", headers={"X-CSRFToken": token})
        assert response.status_code == 302


def test_empty_dashboard_query_count_is_small(charlie_client) -> None:
    # 8, and 1 for the topics card (has this person a kloutId yet? no: nothing else to read)
    assert _count(charlie_client, "/dashboard/") <= 9


def test_decay_is_measured_against_the_scored_day_not_the_wall_clock(alice, alice_client) -> None:
    old_day = dt.date(2018, 9, 1)
    score_history(
        user=alice,
        end=old_day,
        last_activity_at=dt.datetime(2018, 8, 31, 12, tzinfo=dt.UTC),
    )
    assert b"Your score is decaying" not in alice_client.get("/dashboard/").content
