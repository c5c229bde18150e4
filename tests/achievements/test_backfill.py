"""The backfill command walks published days once; running it again unlocks nothing new."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Notification
from achievements.models import Unlock
from networks.models import InteractionKind
from scoring.services import compute_day
from tests.factories.scoring import DAY, accounts, noon, react

pytestmark = pytest.mark.django_db


def test_backfill_unlocks_history_without_notifying_and_is_idempotent(alice):
    main = accounts("alice", 1, user=alice)[0]
    fans = accounts("fan", 12)
    react(
        [(f, main) for f in fans], at=noon(DAY - dt.timedelta(days=1)), kind=InteractionKind.MENTION
    )
    react([(fans[0], main)], at=noon(DAY))  # a quiet day would be held by the anomaly guard
    compute_day(day=DAY - dt.timedelta(days=1))  # no on-commit receiver runs in this test
    compute_day(day=DAY)
    out, bar = StringIO(), StringIO()
    call_command("backfill_achievements", stdout=out, stderr=bar)
    assert "Evaluated 2 published days" in out.getvalue()
    assert "achievements: 100%" in bar.getvalue()  # the progress bar, day by day
    assert "2/2" in bar.getvalue()
    first = Unlock.objects.filter(user=alice).count()
    assert Unlock.objects.filter(user=alice, achievement="mentioned", level=1).exists()
    assert not Notification.objects.exists()

    again = StringIO()
    call_command("backfill_achievements", stdout=again, stderr=StringIO())
    assert "0 new unlocks" in again.getvalue()
    assert Unlock.objects.filter(user=alice).count() == first


def test_backfill_refuses_a_bad_date():
    with pytest.raises(CommandError, match="is not a date"):
        call_command("backfill_achievements", "--since", "yesterday")
