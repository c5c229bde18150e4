"""Publishing a day unlocks achievements and notifies (site and digest); a re-run sends nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from accounts.digests import send_weekly_digests
from accounts.models import Notification, NotificationPreference
from achievements.models import Unlock
from achievements.services import evaluate_achievements, process_published_day
from networks.models import InteractionKind
from scoring.models import DailyScore, ScoringRun
from scoring.services import compute_day
from tests.factories.scoring import DAY, accounts, noon, react

pytestmark = pytest.mark.django_db
YESTERDAY = DAY - dt.timedelta(days=1)


@pytest.fixture
def alice_mentioned(alice):
    """Alice is mentioned by 5 people the day before DAY and 9 more people on DAY."""
    main = accounts("alice", 1, user=alice)[0]
    fans = accounts("fan", 14)
    react([(f, main) for f in fans[:5]], at=noon(YESTERDAY), kind=InteractionKind.MENTION)
    react([(f, main) for f in fans[5:]], at=noon(DAY), kind=InteractionKind.MENTION)
    react([(fans[0], fans[1]), (fans[2], fans[3])], at=noon(DAY))
    NotificationPreference.objects.create(user=alice, score_move_threshold=1)
    return main


def publish(day, capture):
    with capture(execute=True):
        return compute_day(day=day)


def test_publishing_a_day_that_crosses_a_threshold_unlocks_and_notifies(
    alice, alice_mentioned, django_capture_on_commit_callbacks
):
    publish(YESTERDAY, django_capture_on_commit_callbacks)
    assert not Unlock.objects.filter(user=alice, achievement="mentioned").exists()

    run = publish(DAY, django_capture_on_commit_callbacks)

    unlock = Unlock.objects.get(user=alice, achievement="mentioned")
    assert (unlock.level, unlock.day, unlock.run_id) == (1, DAY, run.pk)
    told = Notification.objects.filter(user=alice, day=DAY)
    unlocked = told.get(kind="achievement_unlocked", key="achievement:mentioned:1")
    assert unlocked.title == "Achievement unlocked: Talk of the town (bronze)"
    today = DailyScore.objects.get(run=run, user=alice).score
    before = DailyScore.objects.get(run__day=YESTERDAY, user=alice).score
    moved = round(today) - round(before)
    assert moved >= 1  # the nine new mentioners lift her shown score
    score_notice = told.get(kind="score_moved")
    assert (
        score_notice.title
        == f"Your score went up {moved} point{'s' if moved > 1 else ''} to {round(today)}"
    )
    assert "post more" not in score_notice.body.lower()
    assert "Tip:" in score_notice.body

    assert send_weekly_digests() == 1
    body = str(mail.outbox[0].body)
    assert "Achievement unlocked: Talk of the town (bronze)" in body
    assert "New achievement: Talk of the town (bronze)" in body
    assert f"Your score is {round(today)}" in body


def test_a_second_run_of_the_same_day_sends_nothing_new(
    alice, alice_mentioned, django_capture_on_commit_callbacks
):
    publish(YESTERDAY, django_capture_on_commit_callbacks)
    run = publish(DAY, django_capture_on_commit_callbacks)
    unlocks = list(Unlock.objects.order_by("pk").values_list("pk", flat=True))
    notices = list(Notification.objects.order_by("pk").values_list("pk", flat=True))
    assert notices

    again = publish(DAY, django_capture_on_commit_callbacks)  # compute_day is idempotent
    evaluation, notified = process_published_day(run_id=run.pk)  # and so is the receiver's work

    assert again.pk == run.pk
    assert evaluation.unlocked == 0
    assert notified == 0
    assert list(Unlock.objects.order_by("pk").values_list("pk", flat=True)) == unlocks
    assert list(Notification.objects.order_by("pk").values_list("pk", flat=True)) == notices


def test_a_high_threshold_or_in_app_off_is_respected(
    alice, alice_mentioned, django_capture_on_commit_callbacks
):
    NotificationPreference.objects.filter(user=alice).update(score_move_threshold=50)
    publish(YESTERDAY, django_capture_on_commit_callbacks)
    publish(DAY, django_capture_on_commit_callbacks)
    assert not Notification.objects.filter(user=alice, kind="score_moved").exists()
    assert Notification.objects.filter(user=alice, kind="achievement_unlocked").exists()

    NotificationPreference.objects.filter(user=alice).update(in_app=False)
    Notification.objects.all().delete()
    process_published_day(run_id=ScoringRun.objects.get(day=DAY).pk)
    assert not Notification.objects.exists()


def test_only_published_runs_unlock_anything(alice, alice_mentioned):
    run = ScoringRun.objects.create(
        day=DAY, version=compute_day(day=YESTERDAY).version, status="held"
    )
    with pytest.raises(ValueError, match="only published days"):
        evaluate_achievements(run_id=run.pk)


def test_opted_out_people_are_not_evaluated(alice, bob, alice_mentioned):
    type(bob).objects.filter(pk=bob.pk).update(opted_out=True)
    evaluation = evaluate_achievements(run_id=None)
    assert evaluation.people == 1
    assert not Unlock.objects.filter(user=bob).exists()
    assert Unlock.objects.filter(user=alice, achievement="early_member", level=3).exists()


def test_deleting_a_person_deletes_their_unlocks_and_notifications(alice, bob) -> None:
    from accounts.services import delete_user, notify

    day = dt.date(2026, 11, 1)
    for person in (alice, bob):
        Unlock.objects.create(user=person, achievement="score", level=1, day=day)
        notify(user_id=person.pk, kind="plus_k", title="+K")
    delete_user(user_id=alice.pk)
    assert list(Unlock.objects.values_list("user_id", flat=True)) == [bob.pk]
    assert list(Notification.objects.values_list("user_id", flat=True)) == [bob.pk]


def test_a_notice_for_someone_who_no_longer_exists_is_not_stored(alice) -> None:
    from accounts.services import Notice, send_notices

    gone = type(alice).objects.order_by("-pk").values_list("pk", flat=True).first() + 100
    batch = [Notice(user_id=u, kind="plus_k", title="+K", key="k") for u in (alice.pk, gone)]
    assert send_notices(notices=batch) == 1
    assert list(Notification.objects.values_list("user_id", flat=True)) == [alice.pk]
