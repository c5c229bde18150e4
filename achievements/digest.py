"""The weekly digest's "Your week" section: the week's change, the top moment, new achievements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from achievements.models import Unlock
from achievements.rules import LEVEL_NAMES, RULES_BY_KEY
from scoring.models import LatestScore


def build_week_section(user_ids: Sequence[int], since: dt.datetime) -> dict[int, list[str]]:
    """Lines per person for a chunk of people, in two queries whatever the chunk's size."""
    lines: dict[int, list[str]] = {}
    latest = LatestScore.objects.visible().filter(user_id__in=user_ids)
    for user_id, score, change, moments in latest.values_list(
        "user_id", "score", "change_7d", "daily__moments"
    ):
        mine = lines.setdefault(user_id, [])
        if change is not None:
            moved = round(score) - round(score - change)
            sign = "+" if moved > 0 else ""
            mine.append(f"Your score is {round(score)} ({sign}{moved} this week).")
        else:
            mine.append(f"Your score is {round(score)}.")
        if moments:
            top = moments[0]
            about = f"“{top['text']}”" if top.get("text") else "Your top post"
            mine.append(f"Top moment: {about} drew {top.get('actions', 0)} reactions.")
    unlocks = (
        Unlock.objects.filter(user_id__in=user_ids, unlocked_at__gte=since)
        .order_by("user_id", "achievement", "-level")
        .values_list("user_id", "achievement", "level")
    )
    seen: set[tuple[int, str]] = set()
    for user_id, key, level in unlocks:
        rule = RULES_BY_KEY.get(key)
        if rule is None or (user_id, key) in seen:
            continue
        seen.add((user_id, key))
        lines.setdefault(user_id, []).append(
            f"New achievement: {rule.name} ({LEVEL_NAMES[level]}) — {rule.description}."
        )
    return {uid: found for uid, found in lines.items() if found}
