"""The anomaly guard holds a broken-looking day; staff publish or discard it; yesterday stays."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from networks.models import Network
from scoring.models import DailyScore, LatestScore, RunStatus, ScoringRun
from scoring.services import RunStateError, compute_day, discard_run, publish_run
from tests.factories.accounts import UserFactory
from tests.factories.scoring import DAY, ScoringRunFactory, accounts, noon, react

pytestmark = pytest.mark.django_db
YESTERDAY = DAY - dt.timedelta(days=1)


@pytest.fixture
def published_yesterday():
    """Ten people reacting to each other a little, scored and published yesterday."""
    people = accounts("p", 10)
    ring = list(zip(people, people[1:] + people[:1], strict=True))
    for back in range(1, 4):
        react(ring, at=noon(DAY - dt.timedelta(days=back)))
    react(ring, at=noon(DAY))
    run = compute_day(day=YESTERDAY)
    assert run.status == RunStatus.PUBLISHED
    return people


@pytest.fixture
def staff_client(db) -> Client:
    client = Client()
    client.force_login(UserFactory.create(is_staff=True))
    return client


def test_guard_holds_a_day_when_most_scores_jump(published_yesterday):
    crowd = accounts("crowd", 40)
    react([(c, p) for c in crowd for p in published_yesterday], at=noon(DAY))

    run = compute_day(day=DAY)

    assert run.status == RunStatus.HELD
    assert "moved by more than" in run.held_reason
    assert run.stats["moved"] > run.stats["compared"] / 2


def test_guard_holds_a_day_when_a_network_goes_silent(published_yesterday):
    x_people = accounts("x", 3, network=Network.X)
    react([(x_people[0], x_people[1]), (x_people[2], x_people[1])], at=noon(YESTERDAY))

    run = compute_day(day=DAY)

    assert run.status == RunStatus.HELD
    assert "no interactions today from x" in run.held_reason


def test_held_day_leaves_yesterday_visible(published_yesterday):
    crowd = accounts("crowd", 40)
    react([(c, p) for c in crowd for p in published_yesterday], at=noon(DAY))

    compute_day(day=DAY)

    latest = LatestScore.objects.get(account=published_yesterday[0])
    assert latest.day == YESTERDAY
    assert not DailyScore.objects.published().filter(day=DAY).exists()


def test_rerunning_a_held_day_keeps_it_held(published_yesterday):
    crowd = accounts("crowd", 40)
    react([(c, p) for c in crowd for p in published_yesterday], at=noon(DAY))
    held = compute_day(day=DAY)

    again = compute_day(day=DAY)

    assert again.pk == held.pk
    assert again.status == RunStatus.HELD


@pytest.fixture
def held_run(published_yesterday) -> ScoringRun:
    crowd = accounts("crowd", 40)
    react([(c, p) for c in crowd for p in published_yesterday], at=noon(DAY))
    run = compute_day(day=DAY)
    assert run.status == RunStatus.HELD
    return run


def test_staff_page_lists_held_runs_with_their_reason(staff_client, held_run):
    response = staff_client.get(reverse("staff_runs"))

    assert response.status_code == 200
    assert held_run.held_reason in response.content.decode()


def test_staff_publish_makes_the_held_day_visible(staff_client, held_run, published_yesterday):
    response = staff_client.post(reverse("staff_run_decide", args=[held_run.pk, "publish"]))

    assert response.status_code == 302
    held_run.refresh_from_db()
    assert held_run.status == RunStatus.PUBLISHED
    assert held_run.decided_by is not None
    assert LatestScore.objects.get(account=published_yesterday[0]).day == DAY


def test_staff_discard_removes_the_day_and_keeps_yesterday(
    staff_client, held_run, published_yesterday
):
    staff_client.post(reverse("staff_run_decide", args=[held_run.pk, "discard"]))

    held_run.refresh_from_db()
    assert held_run.status == RunStatus.DISCARDED
    assert not DailyScore.objects.filter(run=held_run).exists()
    assert LatestScore.objects.get(account=published_yesterday[0]).day == YESTERDAY


def test_after_discarding_the_day_can_be_computed_again(held_run, settings):
    discard_run(run_id=held_run.pk, user_id=UserFactory.create(is_staff=True).pk)
    settings.KLOUT_ANOMALY_MAX_MOVED_FRACTION = 1.0

    fresh = compute_day(day=DAY)

    assert fresh.pk != held_run.pk
    assert fresh.status == RunStatus.PUBLISHED


def test_non_staff_cannot_see_or_decide_held_runs(charlie_client, held_run):
    page = charlie_client.get(reverse("staff_runs"))
    decide = charlie_client.post(reverse("staff_run_decide", args=[held_run.pk, "publish"]))

    assert page.status_code in (302, 403)
    assert decide.status_code in (302, 403)
    held_run.refresh_from_db()
    assert held_run.status == RunStatus.HELD


def test_published_runs_cannot_be_discarded(published_yesterday, alice):
    run = ScoringRun.objects.get(day=YESTERDAY)

    with pytest.raises(RunStateError):
        discard_run(run_id=run.pk, user_id=alice.pk)

    assert DailyScore.objects.filter(run=run).exists()


def test_discarded_runs_cannot_be_published(held_run, alice):
    discard_run(run_id=held_run.pk, user_id=alice.pk)

    with pytest.raises(RunStateError):
        publish_run(run_id=held_run.pk, user_id=alice.pk)


def _staff_runs_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("staff_runs")).status_code == 200
    return len(queries)


def test_staff_runs_page_query_count_does_not_grow_with_the_runs(staff_client):
    """The list shows held and recent runs with their version and decider: a fixed number of
    queries whether there are two runs or forty."""
    decider = UserFactory.create(is_staff=True)

    def runs(days: range, status: str) -> None:
        for n in days:
            ScoringRunFactory.create(
                day=DAY - dt.timedelta(days=n), status=status, decided_by=decider
            )

    runs(range(1), RunStatus.HELD)
    runs(range(1, 2), RunStatus.PUBLISHED)
    few = _staff_runs_queries(staff_client)
    runs(range(2, 12), RunStatus.HELD)
    runs(range(12, 40), RunStatus.PUBLISHED)
    many = _staff_runs_queries(staff_client)

    assert few == many
