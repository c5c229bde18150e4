"""Read side of achievements: one person's progress, and how many people hold each level."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Count, Max

from achievements.models import Unlock
from achievements.population import RUN_FIGURES, TOPIC_MIN_SUBJECTS
from achievements.rules import FIGURES, RULES, RULES_BY_KEY, Progress, Rule, progress_for
from networks.models import NetworkAccount
from scoring.models import LatestScore, PersonFigures, RunStatus
from scoring.plusk import PlusK
from scoring.topics import TopicScore

SHARE_CACHE_KEY = "achievements:holders"
SHARE_TTL = 10 * 60


@dataclass(frozen=True)
class Card:
    """One achievement as a person sees it: progress, and when each level was unlocked."""

    index: int
    progress: Progress
    unlocked: dict[int, dt.date]

    @property
    def rule(self) -> Rule:
        """The achievement's rule."""
        return self.progress.rule


def person_figures(user_id: int) -> dict[str, int]:
    """One person's rule inputs from the latest published run (a few indexed queries)."""
    figures = dict.fromkeys(FIGURES, 0)
    latest = (
        PersonFigures.objects.filter(
            user_id=user_id, run__status=RunStatus.PUBLISHED, run__version__is_current=True
        )
        .order_by("-day")
        .values(*RUN_FIGURES)
        .first()
    )
    if latest is not None:
        figures.update({k: int(v) for k, v in latest.items()})
    score = LatestScore.objects.filter(user_id=user_id).values_list("score", flat=True).first()
    figures["score"] = round(score) if score is not None else 0
    figures["networks_linked"] = (
        NetworkAccount.objects.visible()
        .filter(user_id=user_id)
        .values("network")
        .distinct()
        .count()
    )
    figures["member_number"] = get_user_model().objects.filter(pk__lte=user_id).count()
    live = PlusK.objects.live()
    figures["plus_k_given"] = live.filter(giver_id=user_id).count()
    per_topic = (
        live.filter(receiver_user_id=user_id)
        .order_by()
        .values("topic_id")
        .annotate(n=Count("id"))
        .aggregate(most=Max("n"))
    )
    figures["plus_k_topic_max"] = int(per_topic["most"] or 0)
    figures["topic_percentile"] = _best_topic_percentile(user_id)
    return figures


def _best_topic_percentile(user_id: int) -> int:
    """The person's best percentile within a topic of the latest run (as the bulk path counts)."""
    mine = list(
        TopicScore.objects.current()
        .filter(user_id=user_id)
        .values_list("run_id", "topic_id", "score")
    )
    best = 0
    for run_id, topic_id, score in mine:
        rows = TopicScore.objects.filter(run_id=run_id, topic_id=topic_id)
        subjects = rows.count()
        if subjects < TOPIC_MIN_SUBJECTS:
            continue
        below = rows.filter(score__lt=score).count()
        best = max(best, math.floor(100 * below / (subjects - 1)))
    return best


def person_cards(user_id: int) -> list[Card]:
    """Every achievement with the person's progress and unlock dates, in rule order."""
    unlocked: dict[str, dict[int, dt.date]] = {}
    for key, level, day in Unlock.objects.filter(user_id=user_id).values_list(
        "achievement", "level", "day"
    ):
        unlocked.setdefault(key, {})[level] = day
    held = {key: max(levels) for key, levels in unlocked.items()}
    progress = progress_for(person_figures(user_id), held)
    return [
        Card(index=i, progress=p, unlocked=unlocked.get(p.rule.key, {}))
        for i, p in enumerate(progress)
    ]


@dataclass(frozen=True)
class Holding:
    """How many people hold one achievement at each level."""

    index: int
    rule: Rule
    counts: tuple[int, int, int]  # people holding at least bronze, silver, gold
    people: int

    @property
    def shares(self) -> list[tuple[int, str, int, float]]:
        """(level, level name, count, percent of people) per level."""
        names = ("bronze", "silver", "gold")
        return [
            (level, names[level - 1], n, 100.0 * n / self.people if self.people else 0.0)
            for level, n in enumerate(self.counts, start=1)
        ]


def holdings() -> list[Holding]:
    """Every achievement and the share of people who hold each level (cached ten minutes)."""
    cached = cache.get(SHARE_CACHE_KEY)
    if cached is None:
        counts = {
            (row["achievement"], row["level"]): row["n"]
            for row in Unlock.objects.order_by()
            .values("achievement", "level")
            .annotate(n=Count("id"))
        }
        people = get_user_model().objects.filter(is_active=True, opted_out=False).count()
        cached = {"counts": counts, "people": people}
        cache.set(SHARE_CACHE_KEY, cached, SHARE_TTL)
    counts, people = cached["counts"], cached["people"]
    return [
        Holding(
            index=i,
            rule=rule,
            counts=(
                counts.get((rule.key, 1), 0),
                counts.get((rule.key, 2), 0),
                counts.get((rule.key, 3), 0),
            ),
            people=people,
        )
        for i, rule in enumerate(RULES)
    ]


@dataclass(frozen=True)
class Held:
    """One achievement at the highest level a person holds."""

    rule: Rule
    level: int
    level_name: str
    day: dt.date


def held_achievements(user_id: int) -> list[Held]:
    """The person's achievements at their highest level, best first (one query)."""
    best: dict[str, tuple[int, dt.date]] = {}
    for key, level, day in Unlock.objects.filter(user_id=user_id).values_list(
        "achievement", "level", "day"
    ):
        if key in RULES_BY_KEY and level > best.get(key, (0, day))[0]:
            best[key] = (level, day)
    names = {1: "bronze", 2: "silver", 3: "gold"}
    held = [
        Held(rule=RULES_BY_KEY[key], level=level, level_name=names[level], day=day)
        for key, (level, day) in best.items()
    ]
    order = {rule.key: i for i, rule in enumerate(RULES)}
    return sorted(held, key=lambda h: (-h.level, order[h.rule.key]))
