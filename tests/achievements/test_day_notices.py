"""The day's notices are built in the database: each kind, the hidden rule, thresholds, advice."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db import connection

from accounts.models import Notification, NotificationPreference
from achievements.advice import AdviceFigures, advice_for, advice_sql
from achievements.models import Unlock
from achievements.services import notify_day
from networks.models import NetworkAccount
from scoring.models import AlgorithmVersion, DailyScore, Explanation, PersonFigures, ScoringRun
from tests.factories.scoring import accounts

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 11, 2)


def _run(version: AlgorithmVersion, day: dt.date) -> ScoringRun:
    return ScoringRun.objects.create(day=day, version=version, status="published")


@pytest.fixture
def two_days(alice, bob):
    """Alice and Bob scored on two published days; Alice's figures name three accounts."""
    version = AlgorithmVersion.objects.create(name="t", is_current=True)
    before, today = _run(version, DAY - dt.timedelta(days=1)), _run(version, DAY)
    fan, hidden_fan, star = accounts("fan", 1) + accounts("shy", 1) + accounts("star", 1)
    NetworkAccount.objects.filter(pk=hidden_fan.pk).update(protected=True)
    for run, a, b in ((before, 40.0, 30.0), (today, 44.4, 31.0)):
        for user, score in ((alice, a), (bob, b)):
            DailyScore.objects.create(
                run=run, version=version, day=run.day, user=user, score=score, raw=score / 10
            )
    shown = DailyScore.objects.get(run=today, user=alice)
    Explanation.objects.create(
        score=shown, points=2, kind="person", text="Your top reactor", about_account=hidden_fan
    )
    PersonFigures.objects.create(run=before, day=before.day, user=alice, top_influencee_id=fan.pk)
    PersonFigures.objects.create(
        run=today,
        day=DAY,
        user=alice,
        actions_received=20,
        top_network="mastodon",
        top_network_share=80,
        top_influencee_id=hidden_fan.pk,
        top_influencer_id=star.pk,
        new_high_actor_id=star.pk,
        new_high_actor_score=71.6,
    )
    PersonFigures.objects.create(run=today, day=DAY, user=bob, top_influencee_id=fan.pk)
    return today, fan, hidden_fan, star


def test_each_kind_is_told_once_and_never_names_a_hidden_account(alice, bob, two_days) -> None:
    today, fan, hidden_fan, star = two_days
    Unlock.objects.create(user=alice, achievement="score", level=1, day=DAY, run=today)
    Unlock.objects.create(user=alice, achievement="score", level=2, day=DAY, run=today)

    told = notify_day(run_id=today.pk)

    mine = {n.kind: n for n in Notification.objects.filter(user=alice)}
    assert set(mine) == {
        "score_moved",
        "top_influencer",
        "higher_score_actor",
        "achievement_unlocked",
    }  # the new top influencee is protected: no notice about them
    assert mine["score_moved"].title == "Your score went up 4 points to 44"
    assert mine["score_moved"].key == f"score:{DAY.isoformat()}"
    # The explanation is about the hidden account: its reason is left out, the tip stays.
    assert mine["score_moved"].body == (
        "Tip: 80% of your reactions came from Mastodon: that is where your audience listens."
    )
    assert hidden_fan.handle not in " ".join(n.title + n.body for n in mine.values())
    assert mine["top_influencer"].title == f"@{star.handle} is now your top influencer"
    assert mine["higher_score_actor"].title == (
        f"@{star.handle} (score 72) started acting on your posts"
    )
    assert mine["achievement_unlocked"].title == "Achievement unlocked: Rising (silver)"
    assert mine["achievement_unlocked"].key == "achievement:score:2"
    theirs = list(Notification.objects.filter(user=bob).values_list("kind", "title"))
    assert theirs == [("top_influencee", f"@{fan.handle} is now your top influencee")]
    assert told == 5
    assert notify_day(run_id=today.pk) == 0  # the same day again: nothing new


def test_a_visible_account_is_named_in_the_reason(alice, two_days) -> None:
    today, _fan, _hidden_fan, star = two_days
    Explanation.objects.filter(score__run=today, score__user=alice).update(about_account=star)
    notify_day(run_id=today.pk)
    body = Notification.objects.get(user=alice, kind="score_moved").body
    assert body.startswith(f"Main reason: Your top reactor is @{star.handle}. Tip: ")


def test_thresholds_in_app_and_opted_out_people_are_respected(alice, bob, two_days) -> None:
    today = two_days[0]
    NotificationPreference.objects.create(user=alice, score_move_threshold=5)
    NotificationPreference.objects.create(user=bob, score_move_threshold=1, in_app=False)
    notify_day(run_id=today.pk)
    assert not Notification.objects.filter(user=alice, kind="score_moved").exists()
    assert not Notification.objects.filter(user=bob).exists()

    NotificationPreference.objects.filter(user=alice).update(score_move_threshold=4)
    type(alice).objects.filter(pk=alice.pk).update(opted_out=True)
    NotificationPreference.objects.filter(user=bob).update(in_app=True)
    notify_day(run_id=today.pk)
    assert not Notification.objects.filter(user=alice, kind="score_moved").exists()
    assert Notification.objects.filter(user=bob, kind="top_influencee").exists()
    type(alice).objects.filter(pk=alice.pk).update(opted_out=False)
    notify_day(run_id=today.pk)
    assert Notification.objects.filter(user=alice, kind="score_moved").exists()


def test_the_sql_advice_says_exactly_what_the_python_advice_says() -> None:
    cases = [
        AdviceFigures(
            actions_received=actions,
            top_post_kind=kind,
            top_post_kind_share=kind_share,
            top_network_label=label,
            top_network_share=share,
            top_hour=hour,
            top_hour_share=hour_share,
            top_influencee_handle=handle,
        )
        for actions, kind, kind_share, label, share, hour, hour_share, handle in itertools.product(
            (0, 5),
            ("", "original", "reply", "quote"),
            (59, 60),
            ("", "Stack Exchange"),
            (49, 50, 100),
            (None, 0, 9, 23),
            (9, 10),
            ("", "bob"),
        )
    ]
    columns = {name: f"v.{name}" for name in AdviceFigures.__dataclass_fields__}
    expression, params = advice_sql(columns)
    one = (
        "SELECT %s AS i, %s AS actions_received, %s AS top_post_kind, %s AS top_post_kind_share, "
        "%s AS top_network_label, %s AS top_network_share, CAST(%s AS INTEGER) AS top_hour, "
        "%s AS top_hour_share, %s AS top_influencee_handle"
    )
    found: dict[int, str] = {}
    chunk = 200  # SQLite allows 500 terms in one compound SELECT
    for start in range(0, len(cases), chunk):
        part = list(enumerate(cases))[start : start + chunk]
        rows = " UNION ALL ".join(one for _ in part)
        values = [
            v
            for i, f in part
            for v in (
                i,
                f.actions_received,
                f.top_post_kind,
                f.top_post_kind_share,
                f.top_network_label,
                f.top_network_share,
                f.top_hour,
                f.top_hour_share,
                f.top_influencee_handle,
            )
        ]
        with connection.cursor() as cursor:
            sql = f"SELECT v.i, {expression} FROM ({rows}) v ORDER BY v.i"
            cursor.execute(sql, [*params, *values])  # type: ignore[list-item]
            found.update(cursor.fetchall())
    expected = {i: advice_for(f) for i, f in enumerate(cases)}
    assert len(set(expected.values())) > 5  # every branch of the advice is exercised
    assert found == expected


def test_a_kind_turned_off_is_never_stored_for_that_person(alice, bob, two_days) -> None:
    today = two_days[0]
    NotificationPreference.objects.create(user=alice, muted_kinds=["top_influencer", "score_moved"])
    notify_day(run_id=today.pk)
    kinds = set(Notification.objects.filter(user=alice).values_list("kind", flat=True))
    assert kinds == {"higher_score_actor"}
    assert Notification.objects.filter(user=bob, kind="top_influencee").exists()
