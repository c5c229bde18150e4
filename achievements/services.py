"""Write paths of achievements: evaluate every rule for everyone after a published day, and tell
people what happened to them that day through the accounts notification pipeline."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable

import numpy as np
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from achievements import notices
from achievements.models import Unlock
from achievements.population import load_population
from achievements.rules import RULES, evaluate
from klout.columnar import read_columns, write_columns
from scoring.models import RunStatus, ScoringRun

logger = logging.getLogger(__name__)

Progress = Callable[[float, str], None]


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
    unlocked = _write_unlocks(population.user_ids, levels, held, day=day, run_id=run_id)
    _say(progress, 1.0, "done")
    return Evaluation(
        run_id=run_id, people=n, unlocked=unlocked, seconds=time.perf_counter() - started
    )


def _rule_case(column: str) -> tuple[str, list[object]]:
    """SQL turning a rule's index in `column` into its key, and the parameters it takes."""
    whens = " ".join("WHEN %s THEN %s" for _ in RULES)
    return f"CASE {column} {whens} END", [v for i, rule in enumerate(RULES) for v in (i, rule.key)]


def _write_unlocks(
    user_ids: np.ndarray,
    levels: np.ndarray,
    held: np.ndarray,
    *,
    day: dt.date,
    run_id: int | None,
) -> int:
    """Insert every level reached and not yet held, set-based; return how many went in.

    The new (person, rule, level) triples travel as three numpy columns into a temporary table and
    become `Unlock` rows in one INSERT … SELECT; ON CONFLICT DO NOTHING keeps a concurrent or
    repeated evaluation from unlocking anything twice.
    """
    people: list[np.ndarray] = []
    rules: list[np.ndarray] = []
    reached: list[np.ndarray] = []
    for level in (1, 2, 3):
        who, rule = np.nonzero((levels >= level) & (held < level))
        people.append(user_ids[who])
        rules.append(rule.astype(np.int16))
        reached.append(np.full(who.shape[0], level, dtype=np.int16))
    uid = np.concatenate(people)
    if not uid.size:
        return 0
    table = connection.ops.quote_name(Unlock._meta.db_table)
    case, case_params = _rule_case("rule")
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Idempotent (a re-run inserts the same rows, conflicts skipped): the commit need not
            # wait for the disk.
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(
            "CREATE TEMPORARY TABLE _new_unlocks (user_id bigint, rule smallint, level smallint)"
        )
        try:
            write_columns(
                cursor,
                "_new_unlocks",
                {
                    "user_id": ("int8", uid),
                    "rule": ("int2", np.concatenate(rules)),
                    "level": ("int2", np.concatenate(reached)),
                },
            )
            users = connection.ops.quote_name(get_user_model()._meta.db_table)
            cursor.execute(
                # Joined to the people it names (the table has no foreign-key constraint to check
                # millions of rows one by one): nobody deleted meanwhile gets an unlock.
                f"INSERT INTO {table} (user_id, achievement, level, day, run_id, unlocked_at) "
                f"SELECT t.user_id, {case}, t.level, %s, %s, %s "
                f"FROM _new_unlocks t JOIN {users} u ON u.id = t.user_id WHERE 1 = 1 "
                "ORDER BY t.user_id, t.rule, t.level ON CONFLICT DO NOTHING",
                [*case_params, day, run_id, timezone.now()],  # type: ignore[list-item]
            )
            added = max(cursor.rowcount, 0)
        finally:
            cursor.execute("DROP TABLE _new_unlocks")
    return int(added)


def _held_levels(user_ids: np.ndarray) -> np.ndarray:
    """The highest level each person holds of each rule: an (n, len(RULES)) array."""
    held = np.zeros((user_ids.shape[0], len(RULES)), dtype=np.int8)
    table = connection.ops.quote_name(Unlock._meta.db_table)
    whens = " ".join("WHEN %s THEN %s" for _ in RULES)
    params: list[object] = [v for i, rule in enumerate(RULES) for v in (rule.key, i)]
    uid, rule, level = read_columns(
        f"SELECT user_id, CAST(CASE achievement {whens} ELSE -1 END AS smallint), "
        f"CAST(MAX(level) AS smallint) FROM {table} GROUP BY user_id, achievement",
        params,
        ["int8", "int2", "int2"],
    )
    if not user_ids.size or not uid.size:
        return held
    pos = np.minimum(np.searchsorted(user_ids, uid), user_ids.shape[0] - 1)
    found = (user_ids[pos] == uid) & (rule >= 0)
    held[pos[found], rule[found]] = level[found]
    return held


def notify_day(*, run_id: int) -> int:
    """Tell everyone what the published day changed for them; return the new notifications."""
    run = ScoringRun.objects.select_related("version").get(pk=run_id)
    return notices.send_day_notices(run)


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
