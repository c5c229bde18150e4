"""The digest's "Your week": the week's change, the top moment and the week's new achievements."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from achievements.digest import build_week_section
from achievements.models import Unlock
from tests.factories.scoring import score_history

pytestmark = pytest.mark.django_db


def test_the_week_section_has_the_change_the_top_moment_and_new_achievements(alice, bob) -> None:
    moment = {"text": "Shipping the rewrite", "actions": 42}
    latest = score_history(user=alice, days=8, moments=[moment], latest={"change_7d": 4.0})
    day = dt.date(2026, 11, 1)
    Unlock.objects.create(user=alice, achievement="moment", level=1, day=day)
    Unlock.objects.create(user=alice, achievement="moment", level=2, day=day)
    old = Unlock.objects.create(user=alice, achievement="score", level=1, day=day)
    Unlock.objects.filter(pk=old.pk).update(unlocked_at=timezone.now() - dt.timedelta(days=9))

    lines = build_week_section([alice.pk, bob.pk], timezone.now() - dt.timedelta(days=7))

    shown = round(latest.score)
    moved = shown - round(latest.score - 4.0)
    assert lines[alice.pk] == [
        f"Your score is {shown} (+{moved} this week).",
        "Top moment: “Shipping the rewrite” drew 42 reactions.",
        "New achievement: Big moment (silver) — A moment with 100 reactions.",
    ]  # the highest new level only, and nothing unlocked before the week
    assert bob.pk not in lines
