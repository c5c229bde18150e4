"""Write paths for scores: compute a day, publish or discard a run, remove an opted-out person.

`compute_day` reads the window in bulk (`scoring.collect`), runs the engine, writes immutable
DailyScore and Explanation rows inside one transaction (a crash leaves nothing half-written;
the rows are shaped in `scoring.score_rows`, their sentences in `scoring.wording`), then either
holds the run (anomaly guard) or publishes it. Publishing rebuilds the LatestScore read model
(`scoring.read_model`; its cached API JSON moves to a new generation), then tells higher apps
through `scoring.signals.day_published`. This module is the public entry: the read model's
services are re-exported here.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from scoring import signals
from scoring.collect import Window, collect_window, window_bounds
from scoring.engine.calibration import Calibration
from scoring.engine.registry import LATEST, get_version
from scoring.engine.score import EngineResult, score_window
from scoring.engine.types import Interactions, Posts
from scoring.figures import write_figures
from scoring.kloutids import assign_klout_ids
from scoring.models import (
    AlgorithmVersion,
    DailyScore,
    Explanation,
    PersonFigures,
    RunStatus,
    ScoringRun,
)
from scoring.read_model import (
    latest_api_json,
    latest_cache_key,
    rebuild_latest,
    remove_scores_for_account,
    remove_scores_for_user,
)
from scoring.score_rows import Counts, previous_scores, write_scores
from scoring.spark.results import ImportedScores
from scoring.topic_run import (
    Prepared,
    prepare_topics,
    with_topic_breadth,
    write_topic_scores,
)
from scoring.topics import TopicScore

__all__ = [
    "RunStateError",
    "compute_day",
    "discard_run",
    "get_or_create_version",
    "held_runs",
    "import_day",
    "latest_api_json",
    "latest_cache_key",
    "make_version_current",
    "progress_cache_key",
    "publish_run",
    "remove_scores_for_account",
    "remove_scores_for_user",
]


Progress = Callable[[float, str], None]


class RunStateError(ValueError):
    """The run is not in a state that allows this action (e.g. discarding a published run)."""


# --- versions ---------------------------------------------------------------------------------


def get_or_create_version(*, name: str | None = None) -> AlgorithmVersion:
    """The named algorithm version (validated against the engine registry), else the current one."""
    if name is None:
        current = AlgorithmVersion.objects.filter(is_current=True).first()
        if current is not None:
            return current
        name = LATEST
    engine_version = get_version(name)  # KeyError with the known names for a typo
    version, created = AlgorithmVersion.objects.get_or_create(
        name=engine_version.name, defaults={"description": f"engine {engine_version.name}"}
    )
    if created and not AlgorithmVersion.objects.filter(is_current=True).exists():
        AlgorithmVersion.objects.filter(pk=version.pk).update(is_current=True)
        version.is_current = True
    return version


def make_version_current(*, name: str) -> AlgorithmVersion:
    """Switch the series pages show to another version (its history starts with its first run)."""
    version = get_or_create_version(name=name)
    with transaction.atomic():
        AlgorithmVersion.objects.filter(is_current=True).exclude(pk=version.pk).update(
            is_current=False
        )
        AlgorithmVersion.objects.filter(pk=version.pk).update(is_current=True)
    version.is_current = True
    return version


# --- compute ----------------------------------------------------------------------------------


def compute_day(
    *, day: dt.date, version_name: str | None = None, progress: Progress | None = None
) -> ScoringRun:
    """Score `day` under a version: idempotent; writes, guards, then holds or publishes the run."""
    version = get_or_create_version(name=version_name)
    existing = _live_run(day=day, version=version)
    if existing is None:
        try:
            existing = _compute_run(day=day, version=version, progress=progress)
        except IntegrityError:
            # Another worker committed the same (day, version) first; theirs stands.
            existing = _live_run(day=day, version=version)
            if existing is None:
                raise
    if existing.status == RunStatus.COMPUTING:
        # Written in full (the write is one transaction) but not yet decided: decide now.
        existing = _decide(run=existing)
    return existing


def _live_run(*, day: dt.date, version: AlgorithmVersion) -> ScoringRun | None:
    return (
        ScoringRun.objects.filter(day=day, version=version)
        .exclude(status=RunStatus.DISCARDED)
        .first()
    )


def _emit(progress: Progress | None, run: ScoringRun | None, fraction: float, stage: str) -> None:
    if progress is not None:
        progress(fraction, stage)
    if run is not None:
        ScoringRun.objects.filter(pk=run.pk).update(progress=fraction)
        cache.set(progress_cache_key(run.day, run.version_id), fraction, 3600)


def progress_cache_key(day: dt.date, version_id: int) -> str:
    """Where live progress of a computing run is visible outside its transaction."""
    return f"scoring:progress:{version_id}:{day.isoformat()}"


def _compute_run(
    *, day: dt.date, version: AlgorithmVersion, progress: Progress | None
) -> ScoringRun:
    timings: dict[str, float] = {}
    algo = get_version(version.name)
    with transaction.atomic():
        run = ScoringRun.objects.create(day=day, version=version)
        _emit(progress, run, 0.02, "collect")
        t0 = time.perf_counter()
        # One extra day so yesterday's window (for explanations) is complete too.
        window = collect_window(day=day, days=int(algo.window_days) + 1)
        timings["collect_s"] = time.perf_counter() - t0

        _emit(progress, run, 0.15, "engine")
        t0 = time.perf_counter()
        calibration = _stored_calibration(version)
        prepared = prepare_topics(window)  # tags -> topics first: breadth feeds the style
        result = score_window(
            window.interactions,
            with_topic_breadth(window.posts, prepared),
            as_of=window.as_of,
            version=algo,
            calibration=calibration,
        )
        if calibration is None:
            _store_calibration(version, result.calibration)
        timings["engine_s"] = time.perf_counter() - t0
        _record_run(
            run=run,
            window=window,
            result=result,
            yesterday=None,
            timings=timings,
            inputs={"interactions": len(window.interactions), "posts": len(window.posts)},
            progress=progress,
            topics=prepared,
            figures=True,
        )
    cache.delete(progress_cache_key(day, version.pk))
    return run


def _record_run(
    *,
    run: ScoringRun,
    window: Window,
    result: EngineResult,
    yesterday: Callable[[], EngineResult] | None,
    timings: dict[str, float],
    inputs: dict[str, object],
    progress: Progress | None,
    topics: Prepared | None = None,
    figures: bool = False,
) -> None:
    """Write a scored day's rows into `run`, then let the anomaly guard hold it or not.

    `topics` (the window's tags mapped to topics) adds the day's topic scores and `figures` the
    achievements' per-person figures; scores imported from Spark come without either (the Spark
    job's results carry no per-post arrays to count them from).
    """
    _emit(progress, run, 0.35, "write")
    t0 = time.perf_counter()
    previous = previous_scores(day=run.day, version=run.version)
    counts = write_scores(
        run=run,
        window=window,
        result=result,
        previous=previous,
        emit=lambda fraction: _emit(progress, run, fraction, "write"),
        yesterday=yesterday,
    )
    timings["write_s"] = time.perf_counter() - t0
    topic_stats: dict[str, object] = {}
    if topics is not None:
        t0 = time.perf_counter()
        topic_stats = write_topic_scores(run=run, window=window, result=result, prepared=topics)
        timings["topics_s"] = time.perf_counter() - t0
    counts_figures = 0
    if figures:
        t0 = time.perf_counter()
        counts_figures = write_figures(run=run, window=window, result=result)
        timings["figures_s"] = time.perf_counter() - t0

    held_reason = _anomaly(window=window, counts=counts)
    run.stats = {
        **counts.as_stats(),
        **{k: round(v, 3) for k, v in timings.items()},
        **inputs,
        "people": window.interactions.n_people,
        "networks_today": window.day_counts,
        "networks_yesterday": window.yesterday_counts,
        **({"topics": topic_stats} if topics is not None else {}),
        "figures": counts_figures,
    }
    run.progress = 1.0
    fields = ["stats", "progress"]
    if held_reason:
        run.status = RunStatus.HELD
        run.held_reason = held_reason
        fields += ["status", "held_reason"]
    run.save(update_fields=fields)
    if held_reason:
        transaction.on_commit(lambda: _notify_staff_held(run))


# --- scores computed elsewhere (Spark) --------------------------------------------------------


def import_day(
    *, day: dt.date, scores: ImportedScores, progress: Progress | None = None
) -> ScoringRun:
    """Spark's scores for `day` through the same write -> guard -> publish path as `compute_day`.

    Idempotent like `compute_day`: when the (day, version) already has a live run (computed here
    or imported before; held or published), that run is returned untouched, so a held run stays
    held and published history is never rewritten.
    """
    if scores.meta.get("day") != day.isoformat():
        raise ValueError(f"the scores are for {scores.meta.get('day')}, not {day.isoformat()}")
    version = get_or_create_version(name=str(scores.meta["version"]))
    existing = _live_run(day=day, version=version)
    if existing is None:
        try:
            existing = _import_run(day=day, version=version, scores=scores, progress=progress)
        except IntegrityError:
            existing = _live_run(day=day, version=version)
            if existing is None:
                raise
    if existing.status == RunStatus.COMPUTING:
        existing = _decide(run=existing)
    return existing


def _import_run(
    *, day: dt.date, version: AlgorithmVersion, scores: ImportedScores, progress: Progress | None
) -> ScoringRun:
    with transaction.atomic():
        stored = _stored_calibration(version)
        if stored is None:
            _store_calibration(version, scores.calibration)
            stored = _stored_calibration(version)
        if stored != scores.calibration:
            raise ValueError(
                f"Spark scored with calibration k={scores.calibration.k!r}, but {version.name} "
                f"is calibrated with k={stored.k if stored else None!r}: export the window again"
            )
        run = ScoringRun.objects.create(day=day, version=version)
        start, end = window_bounds(day)
        n = int(scores.account_ids.shape[0])
        meta = scores.meta
        window = Window(
            day=day,
            start=start,
            end=end,
            interactions=Interactions.from_arrays([], [], [], n_people=n),
            posts=Posts.empty(),
            account_ids=scores.account_ids,
            post_ids=scores.post_ids,
            groups=scores.groups,
            day_counts={k: int(v) for k, v in meta.get("day_counts", {}).items()},
            yesterday_counts={k: int(v) for k, v in meta.get("yesterday_counts", {}).items()},
        )

        def yesterday() -> EngineResult:
            if scores.yesterday is None:
                raise ValueError(
                    "the scores lack the day before, which explanations need: "
                    "run the Spark job without --no-yesterday"
                )
            return scores.yesterday

        rows = meta.get("rows", {})
        _record_run(
            run=run,
            window=window,
            result=scores.today,
            yesterday=yesterday,
            timings={},
            inputs={
                "interactions": int(rows.get("interactions", 0)),
                "posts": int(rows.get("posts", 0)),
                "engine": "spark",
            },
            progress=progress,
        )
    cache.delete(progress_cache_key(day, version.pk))
    return run


def _decide(*, run: ScoringRun) -> ScoringRun:
    """A fully written run that passed the guard is published."""
    return publish_run(run_id=run.pk)


def _stored_calibration(version: AlgorithmVersion) -> Calibration | None:
    fresh = AlgorithmVersion.objects.only("calibration").get(pk=version.pk)
    if fresh.calibration:
        return Calibration.from_dict(fresh.calibration)
    return None


def _store_calibration(version: AlgorithmVersion, calibration: Calibration) -> None:
    # Conditional update: a calibration, once stored, is never replaced.
    AlgorithmVersion.objects.filter(pk=version.pk, calibration={}).update(
        calibration=calibration.to_dict()
    )
    version.calibration = calibration.to_dict()


# --- anomaly guard ----------------------------------------------------------------------------


def _anomaly(*, window: Window, counts: Counts) -> str:
    """Why the day looks broken (empty string when it looks fine)."""
    reasons: list[str] = []
    missing = sorted(
        net for net, n in window.yesterday_counts.items() if n and not window.day_counts.get(net)
    )
    if missing:
        reasons.append(
            "no interactions today from "
            + ", ".join(missing)
            + " (which had interactions yesterday): an input may be missing"
        )
    if counts.compared:
        fraction = counts.moved / counts.compared
        if fraction > settings.KLOUT_ANOMALY_MAX_MOVED_FRACTION:
            reasons.append(
                f"{counts.moved} of {counts.compared} scores ({fraction:.0%}) moved by more than "
                f"{settings.KLOUT_ANOMALY_POINTS} points since the previous published day"
            )
    return "; ".join(reasons)


def _notify_staff_held(run: ScoringRun) -> None:
    from django.urls import reverse

    from accounts import services as account_services
    from accounts.models import User

    url = reverse("staff_runs")
    for staff_id in User.objects.filter(is_staff=True, is_active=True).values_list("pk", flat=True):
        account_services.notify(
            user_id=staff_id,
            kind="scoring_run_held",
            title=f"Scores for {run.day} are held back",
            body=run.held_reason,
            url=url,
        )


# --- publish / discard ------------------------------------------------------------------------


def publish_run(*, run_id: int, user_id: int | None = None) -> ScoringRun:
    """Make a computed or held run visible: flip its status and rebuild the read model."""
    with transaction.atomic():
        run = ScoringRun.objects.select_for_update().select_related("version").get(pk=run_id)
        if run.status == RunStatus.PUBLISHED:
            return run
        if run.status == RunStatus.DISCARDED:
            raise RunStateError(f"run {run_id} was discarded; compute the day again instead")
        run.status = RunStatus.PUBLISHED
        run.decided_at = timezone.now()
        run.decided_by_id = user_id
        run.save(update_fields=["status", "decided_at", "decided_by"])
        assign_klout_ids(run_id=run.pk)
        rebuild_latest(run)
        transaction.on_commit(lambda: signals.day_published.send(sender=ScoringRun, run_id=run.pk))
    return run


def discard_run(*, run_id: int, user_id: int) -> ScoringRun:
    """Throw away a run that was not published; its scores go, the run stays as an audit trail."""
    with transaction.atomic():
        run = ScoringRun.objects.select_for_update().get(pk=run_id)
        if run.status == RunStatus.PUBLISHED:
            raise RunStateError("published history is never rewritten; a published run stays")
        if run.status == RunStatus.DISCARDED:
            return run
        Explanation.objects.filter(score__run_id=run.pk).delete()
        DailyScore.objects.filter(run_id=run.pk).delete()
        TopicScore.objects.filter(run_id=run.pk).delete()
        PersonFigures.objects.filter(run_id=run.pk).delete()
        run.status = RunStatus.DISCARDED
        run.decided_at = timezone.now()
        run.decided_by_id = user_id
        run.save(update_fields=["status", "decided_at", "decided_by"])
    return run


def held_runs() -> list[ScoringRun]:
    """Runs the anomaly guard held back, newest first (for staff)."""
    return list(
        ScoringRun.objects.filter(status=RunStatus.HELD)
        .select_related("version")
        .order_by("-day", "-pk")
    )
