"""Write paths of achievements: evaluate every rule for everyone after a published day, and tell
people what happened to them that day through the accounts notification pipeline."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from accounts.services import send_notices
from achievements import notices
from achievements.models import Unlock
from achievements.population import load_population
from achievements.rules import RULES, evaluate
from klout.bulk import insert_ignoring_conflicts
from scoring.models import RunStatus, ScoringRun

logger = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
RULE_INDEX = {rule.key: i for i, rule in enumerate(RULES)}


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """What one evaluation did."""

    run_id: int | None
    people: int
    unlocked: int
    seconds: float


def evaluate_achievements(
    *, run_id: int | None, user_ids: list[int] | None = None, progress: Progress | None = None
) -> Evaluation:
    """Evaluate every rule for everyone (or `user_ids`) on a published run's figures, in bulk.

    New levels become `Unlock` rows; a level already held is never unlocked again (the database
    refuses a second (person, achievement, level)), so re-running a day unlocks nothing new.
    With `run_id=None` only the figures that need no run (networks linked, member number) count.
    """
    started = time.perf_counter()
    run = None
    if run_id is not None:
        run = ScoringRun.objects.get(pk=run_id)
        if run.status != RunStatus.PUBLISHED:
            raise ValueError(f"run {run_id} is {run.status}; only published days unlock anything")
    _say(progress, 0.05, "figures")
    population = load_population(run_id=run_id, user_ids=user_ids)
    n = len(population)
    _say(progress, 0.45, "rules")
    levels = evaluate(population.figures, n)
    held = _held_levels(population.user_ids)
    _say(progress, 0.7, "unlocks")
    day = run.day if run is not None else timezone.now().date()
    now = timezone.now()
    keys = [rule.key for rule in RULES]

    def rows() -> Iterator[tuple[object, ...]]:
        for level in (1, 2, 3):
            people, rules = np.nonzero((levels >= level) & (held < level))
            ids = population.user_ids[people].tolist()
            for uid, r in zip(ids, rules.tolist(), strict=True):
                yield (uid, keys[r], level, day, run_id, now)

    columns = ("user_id", "achievement", "level", "day", "run_id", "unlocked_at")
    unlocked = insert_ignoring_conflicts(Unlock, columns, rows()) if (levels > held).any() else 0
    _say(progress, 1.0, "done")
    return Evaluation(
        run_id=run_id, people=n, unlocked=unlocked, seconds=time.perf_counter() - started
    )


def _held_levels(user_ids: np.ndarray) -> np.ndarray:
    """The highest level each person holds of each rule: an (n, len(RULES)) array."""
    held = np.zeros((user_ids.shape[0], len(RULES)), dtype=np.int8)
    table = connection.ops.quote_name(Unlock._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT user_id, achievement, MAX(level) FROM {table} GROUP BY user_id, achievement"
        )
        while batch := cursor.fetchmany(50_000):
            uid = np.fromiter((b[0] for b in batch), dtype=np.int64, count=len(batch))
            rule = np.fromiter(
                (RULE_INDEX.get(b[1], -1) for b in batch), dtype=np.int64, count=len(batch)
            )
            level = np.fromiter((b[2] for b in batch), dtype=np.int8, count=len(batch))
            if not user_ids.size:
                continue
            pos = np.minimum(np.searchsorted(user_ids, uid), user_ids.shape[0] - 1)
            found = (user_ids[pos] == uid) & (rule >= 0)
            held[pos[found], rule[found]] = level[found]
    return held


def notify_day(*, run_id: int) -> int:
    """Tell everyone what the published day changed for them; return the new notifications."""
    run = ScoringRun.objects.select_related("version").get(pk=run_id)
    return send_notices(notices=notices.day_notices(run))


def process_published_day(*, run_id: int) -> tuple[Evaluation, int]:
    """After a day is published: unlock achievements, then send the day's notifications.

    Only the current version's newest published day notifies (a backfilled day is history).
    """
    run = ScoringRun.objects.select_related("version").get(pk=run_id)
    with transaction.atomic():
        evaluation = evaluate_achievements(run_id=run_id)
    newest = ScoringRun.objects.published().filter(version=run.version, day__gt=run.day).exists()
    if not run.version.is_current or newest:
        return evaluation, 0
    return evaluation, notify_day(run_id=run_id)


def published_runs(*, since: dt.date | None = None) -> list[ScoringRun]:
    """The current version's published runs, oldest first (what a backfill walks through)."""
    runs = ScoringRun.objects.published().filter(version__is_current=True).order_by("day")
    if since is not None:
        runs = runs.filter(day__gte=since)
    return list(runs)


def _say(progress: Progress | None, fraction: float, stage: str) -> None:
    if progress is not None:
        progress(fraction, stage)
    logger.debug("achievements: %s (%.0f%%)", stage, fraction * 100)
