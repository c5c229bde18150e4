"""Write paths for scores: compute a day, publish or discard a run, remove an opted-out person.

`compute_day` reads the window in bulk (`scoring.collect`), runs the engine, writes immutable
DailyScore and Explanation rows inside one transaction (a crash leaves nothing half-written),
then either holds the run (anomaly guard) or publishes it. Publishing rebuilds the LatestScore
read model and its cached API JSON, then tells higher apps through `scoring.signals.day_published`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from networks.models import NetworkAccount, Post
from scoring import signals
from scoring.collect import Window, collect_window
from scoring.engine.calibration import Calibration
from scoring.engine.explain import explain_change
from scoring.engine.registry import DAY, LATEST, get_version
from scoring.engine.score import EngineResult, combine_persons, score_window
from scoring.models import (
    AlgorithmVersion,
    DailyScore,
    Explanation,
    LatestScore,
    RunStatus,
    ScoringRun,
    bucket_for,
)
from scoring.queries import bump_privacy_epoch

logger = logging.getLogger(__name__)

BATCH = 5_000
TOP_K = 5
# Explanations explain a change people can see: the shown (rounded) score moved.
EXPLAIN_MIN_POINTS = 0.5
CACHE_TTL = 60 * 60 * 48

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
        result = score_window(
            window.interactions,
            window.posts,
            as_of=window.as_of,
            version=algo,
            calibration=calibration,
        )
        if calibration is None:
            _store_calibration(version, result.calibration)
        timings["engine_s"] = time.perf_counter() - t0

        _emit(progress, run, 0.35, "write")
        t0 = time.perf_counter()
        previous = _previous_scores(day=day, version=version)
        counts = _write_scores(
            run=run, window=window, result=result, previous=previous, progress=progress
        )
        timings["write_s"] = time.perf_counter() - t0

        held_reason = _anomaly(window=window, counts=counts)
        run.stats = {
            **counts.as_stats(),
            **{k: round(v, 3) for k, v in timings.items()},
            "interactions": len(window.interactions),
            "posts": len(window.posts),
            "people": window.interactions.n_people,
            "networks_today": window.day_counts,
            "networks_yesterday": window.yesterday_counts,
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


@dataclasses.dataclass
class _Previous:
    """The subjects' previous published scores under the same version."""

    day: dt.date | None
    accounts: dict[int, float]
    users: dict[int, float]


def _previous_scores(*, day: dt.date, version: AlgorithmVersion) -> _Previous:
    prev_run = (
        ScoringRun.objects.published()
        .filter(version=version, day__lt=day)
        .order_by("-day")
        .only("pk", "day")
        .first()
    )
    if prev_run is None:
        return _Previous(day=None, accounts={}, users={})
    accounts: dict[int, float] = {}
    users: dict[int, float] = {}
    rows = DailyScore.objects.filter(run_id=prev_run.pk).values_list(
        "account_id", "user_id", "score"
    )
    for account_id, user_id, score in rows.iterator(chunk_size=20_000):
        if account_id is not None:
            accounts[account_id] = score
        else:
            users[user_id] = score
    return _Previous(day=prev_run.day, accounts=accounts, users=users)


@dataclasses.dataclass
class _Counts:
    accounts: int = 0
    users: int = 0
    explanations: int = 0
    compared: int = 0
    moved: int = 0

    def as_stats(self) -> dict[str, int]:
        return dataclasses.asdict(self)


def _write_scores(
    *,
    run: ScoringRun,
    window: Window,
    result: EngineResult,
    previous: _Previous,
    progress: Progress | None,
) -> _Counts:
    """DailyScore rows per account and per linked user, their explanations, in batches."""
    n = window.interactions.n_people
    counts = _Counts()
    meta = _account_meta(window.account_ids)
    influencees, influencers = _top_k_both(result, TOP_K)
    moments = _moments(result, window, TOP_K)
    user_ids = sorted(window.groups)
    combined = combine_persons(result, [window.groups[u] for u in user_ids])
    prev_result: EngineResult | None = None
    if previous.day is not None:
        # Yesterday on the same arrays and calibration, so explain_change compares like with like.
        prev_result = score_window(
            window.interactions,
            window.posts,
            as_of=window.as_of - DAY,
            version=result.version,
            calibration=result.calibration,
        )
        prev_result = _with_csc(prev_result)
    explain_result = _with_csc(result) if prev_result is not None else result
    networks = window.networks
    last = result.last_received
    day = run.day
    version_id = run.version_id

    def people(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                "account_id": int(window.account_ids[it["person"]]),
                "network": meta.network[it["person"]],
                "handle": meta.handle[it["person"]],
                "weight": it["weight"],
            }
            for it in items
        ]

    def common(i: int) -> dict[str, Any]:
        raw = float(result.raw[i])
        contrib = {}
        if raw > 0:
            for c, net in enumerate(result.networks):
                share = float(result.network_contributions[i, c]) / raw
                if share > 0:
                    contrib[networks[int(net)]] = round(share, 4)
        return {
            "true_reach": round(float(result.true_reach[i]), 3),
            "amplification": float(result.amplification[i]),
            "network_score": float(result.network_score[i]),
            "style": result.style_name(i),
            "style_reasons": [result.style_reason(i)],
            "network_contributions": contrib,
            "influencers": people(influencers.get(i, [])),
            "influencees": people(influencees.get(i, [])),
            "moments": moments.get(i, []),
            "last_activity_at": (
                dt.datetime.fromtimestamp(float(last[i]), tz=dt.UTC)
                if np.isfinite(last[i])
                else None
            ),
        }

    def explain(i: int, score: float, prev: float | None) -> list[Explanation]:
        if prev is None:
            return []
        counts.compared += 1
        delta = score - prev
        if abs(delta) > settings.KLOUT_ANOMALY_POINTS:
            counts.moved += 1
        if prev_result is None or abs(round(score) - round(prev)) < EXPLAIN_MIN_POINTS:
            return []
        drivers = explain_change(prev_result, explain_result, i)
        return [
            Explanation(points=d.points, kind=d.kind, text=_words(d, i, meta, moments), position=p)
            for p, d in enumerate(drivers)
        ]

    total = n + len(user_ids)
    done = 0

    def flush(rows: list[DailyScore], notes: list[list[Explanation]]) -> None:
        nonlocal done
        created = DailyScore.objects.bulk_create(rows, batch_size=BATCH)
        expl: list[Explanation] = []
        for score_row, row_notes in zip(created, notes, strict=True):
            for note in row_notes:
                note.score_id = score_row.pk
                expl.append(note)
        Explanation.objects.bulk_create(expl, batch_size=BATCH)
        counts.explanations += len(expl)
        done += len(rows)
        _emit(progress, run, 0.35 + 0.6 * done / max(total, 1), "write")

    rows: list[DailyScore] = []
    notes: list[list[Explanation]] = []

    def add(row: DailyScore, person: int, prev: float | None) -> None:
        """Queue one subject's score and its explanation; write a batch when it is full."""
        nonlocal rows, notes
        rows.append(row)
        notes.append(explain(person, row.score, prev))
        if len(rows) >= BATCH:
            flush(rows, notes)
            rows, notes = [], []

    for i in range(n):
        account_id = int(window.account_ids[i])
        row = DailyScore(
            run_id=run.pk,
            version_id=version_id,
            day=day,
            account_id=account_id,
            score=float(result.score[i]),
            raw=float(result.raw[i]),
            **common(i),
        )
        add(row, i, previous.accounts.get(account_id))
    counts.accounts = n
    for g, user_id in enumerate(user_ids):
        best = int(combined.best_account[g])
        score = max(float(combined.score[g]), float(result.score[window.groups[user_id]].max()))
        row = DailyScore(
            run_id=run.pk,
            version_id=version_id,
            day=day,
            user_id=user_id,
            score=score,
            raw=float(combined.raw[g]),
            **common(best),
        )
        add(row, best, previous.users.get(user_id))
    counts.users = len(user_ids)
    if rows:
        flush(rows, notes)
    return counts


def _with_csc(result: EngineResult) -> EngineResult:
    # explain_change slices influence by column per person; CSC makes that O(column), not O(nnz).
    return dataclasses.replace(result, influence=result.influence.tocsc())


@dataclasses.dataclass(frozen=True)
class _Meta:
    network: list[str]
    handle: list[str]
    display_name: list[str]


def _account_meta(account_ids: npt.NDArray[np.int64]) -> _Meta:
    """Network, handle and name of every account in the window, aligned with the dense index."""
    networks = [""] * account_ids.shape[0]
    handles = [""] * account_ids.shape[0]
    names = [""] * account_ids.shape[0]
    if not account_ids.shape[0]:
        return _Meta(networks, handles, names)
    lo, hi = int(account_ids[0]), int(account_ids[-1])
    rows = (
        NetworkAccount.objects.filter(pk__gte=lo, pk__lte=hi)
        .values_list("pk", "network", "handle", "external_id", "display_name")
        .order_by()
    )
    for pk, network, handle, external_id, name in rows.iterator(chunk_size=20_000):
        i = int(np.searchsorted(account_ids, pk))
        if i < account_ids.shape[0] and int(account_ids[i]) == pk:
            networks[i] = network
            handles[i] = handle or external_id
            names[i] = name
    return _Meta(networks, handles, names)


def _top_k_both(
    result: EngineResult, k: int
) -> tuple[dict[int, list[dict[str, Any]]], dict[int, list[dict[str, Any]]]]:
    """Top reactors on each person (influencees) and top people each person reacts to, at once."""
    coo = result.influence.tocoo()
    actor = coo.row.astype(np.int64)
    recv = coo.col.astype(np.int64)
    weight = coo.data.astype(np.float64)
    keep = weight > 0
    actor, recv, weight = actor[keep], recv[keep], weight[keep]
    return _group_top(recv, actor, weight, k), _group_top(actor, recv, weight, k)


def _group_top(
    key: npt.NDArray[np.int64],
    other: npt.NDArray[np.int64],
    weight: npt.NDArray[np.float64],
    k: int,
) -> dict[int, list[dict[str, Any]]]:
    # Sort by (key, -weight, other): deterministic ties, then take the first k of each key.
    order = np.lexsort((other, -weight, key))
    key, other, weight = key[order], other[order], weight[order]
    if key.shape[0] == 0:
        return {}
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    lengths = np.diff(np.r_[starts, key.shape[0]])
    rank = np.arange(key.shape[0]) - np.repeat(starts, lengths)
    sel = rank < k
    out: dict[int, list[dict[str, Any]]] = {}
    for kk, oo, ww in zip(
        key[sel].tolist(), other[sel].tolist(), weight[sel].tolist(), strict=True
    ):
        out.setdefault(kk, []).append({"person": oo, "weight": round(ww, 4)})
    return out


def _moments(result: EngineResult, window: Window, k: int) -> dict[int, list[dict[str, Any]]]:
    """Per person, the k posts that drove the most action (post ids, actions; text filled later)."""
    actions = result.post_actions
    author = result.post_author[: actions.shape[0]]
    idx = np.arange(actions.shape[0], dtype=np.int64)
    keep = (actions > 0) & (author >= 0)
    grouped = _group_top(author[keep], idx[keep], actions[keep], k)
    post_ids = window.post_ids
    wanted = sorted({int(post_ids[it["person"]]) for items in grouped.values() for it in items})
    texts: dict[int, tuple[str, dt.datetime | None]] = {}
    for chunk in _chunks(wanted, 2_000):
        for pk, body, when in Post.objects.filter(pk__in=chunk).values_list(
            "pk", "text", "posted_at"
        ):
            texts[pk] = (body, when)
    out: dict[int, list[dict[str, Any]]] = {}
    for person, items in grouped.items():
        out[person] = []
        for it in items:
            post_id = int(post_ids[it["person"]])
            found: tuple[str, dt.datetime | None] = texts.get(post_id, ("", None))
            text, posted_at = found
            out[person].append(
                {
                    "post_id": post_id,
                    "text": _snippet(text),
                    "posted_at": posted_at.isoformat() if posted_at else None,
                    "actions": int(it["weight"]),
                }
            )
    return out


def _snippet(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _words(driver: Any, person: int, meta: _Meta, moments: dict[int, list[dict[str, Any]]]) -> str:
    """Engine drivers name people and posts by index; say their handles and words instead."""
    if driver.kind == "person":
        text: str = driver.text
        who = text.rsplit("#", 1)[-1]
        if who.isdigit() and int(who) < len(meta.handle):
            return f"your strongest reactor is @{meta.handle[int(who)]}"
    if driver.kind == "post" and moments.get(person):
        top = moments[person][0]
        about = f" “{top['text']}”" if top["text"] else ""
        return f"your post{about} drove {top['actions']} actions"
    return str(driver.text)


# --- anomaly guard ----------------------------------------------------------------------------


def _anomaly(*, window: Window, counts: _Counts) -> str:
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

    notify = getattr(account_services, "notify", None)
    if notify is None:  # accounts' notifications not there yet: the log is the fallback
        logger.warning("scoring run %s held: %s", run.pk, run.held_reason)
        return
    url = reverse("staff_runs")
    for staff_id in User.objects.filter(is_staff=True, is_active=True).values_list("pk", flat=True):
        notify(
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
        cached = _rebuild_latest(run)
        transaction.on_commit(lambda: cache.set_many(cached, CACHE_TTL))
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
        run.status = RunStatus.DISCARDED
        run.decided_at = timezone.now()
        run.decided_by_id = user_id
        run.save(update_fields=["status", "decided_at", "decided_by"])
    return run


def latest_cache_key(*, user_id: int | None = None, account_id: int | None = None) -> str:
    """The cache key of a subject's pre-serialised API JSON."""
    if user_id is not None:
        return f"scoring:latest:user:{user_id}"
    return f"scoring:latest:account:{account_id}"


def latest_api_json(
    *, user_id: int | None = None, account_id: int | None = None
) -> dict[str, Any] | None:
    """A subject's latest published score as API JSON: from the cache, else the read model."""
    key = latest_cache_key(user_id=user_id, account_id=account_id)
    hit = cache.get(key)
    if hit is not None:
        return dict(hit)
    subject = Q(user_id=user_id) if user_id is not None else Q(account_id=account_id)
    row = LatestScore.objects.visible().filter(subject).values_list("api_json", flat=True).first()
    if row is None:
        return None
    cache.set(key, row, CACHE_TTL)
    return dict(row)


def _rebuild_latest(run: ScoringRun) -> dict[str, Any]:
    """Rewrite LatestScore rows for the run's subjects; return the API JSON to cache."""
    version = run.version
    if not version.is_current:
        return {}  # another series: its history is kept, pages show the current version
    newer = ScoringRun.objects.published().filter(version=version, day__gt=run.day).exists()
    if newer:
        return {}  # a backfilled day: history only, the read model already shows a later day
    LatestScore.objects.exclude(version=version).delete()

    past = {run.day - dt.timedelta(days=d): d for d in (1, 7, 30)}
    history: dict[tuple[str, int], dict[int, float]] = {}
    rows = (
        DailyScore.objects.published()
        .filter(version=version, day__in=list(past))
        .values_list("day", "account_id", "user_id", "score")
    )
    for day, account_id, user_id, score in rows.iterator(chunk_size=20_000):
        key = ("account", account_id) if account_id is not None else ("user", user_id)
        history.setdefault(key, {})[past[day]] = score

    scores = DailyScore.objects.filter(run_id=run.pk).values_list(
        "pk",
        "account_id",
        "user_id",
        "score",
        "true_reach",
        "amplification",
        "network_score",
        "style",
    )
    accounts = dict(
        NetworkAccount.objects.filter(daily_scores__run_id=run.pk).values_list("pk", "network")
    )
    account_meta = (
        {
            pk: (network, handle or external_id, name)
            for pk, network, handle, external_id, name in NetworkAccount.objects.filter(
                pk__in=list(accounts)
            )
            .values_list("pk", "network", "handle", "external_id", "display_name")
            .iterator(chunk_size=20_000)
        }
        if len(accounts) < 20_000
        else _all_account_meta()
    )
    from accounts.models import User

    user_meta = {
        pk: (name or email.split("@", 1)[0])
        for pk, name, email in User.objects.filter(daily_scores__run_id=run.pk).values_list(
            "pk", "display_name", "email"
        )
    }
    best_handle = _best_handles(run)

    latest: list[LatestScore] = []
    cached: dict[str, Any] = {}
    for pk, account_id, user_id, score, reach, amp, net_score, style in scores.iterator(
        chunk_size=20_000
    ):
        if account_id is not None:
            network, handle, name = account_meta.get(account_id, ("", "", ""))
            hist = history.get(("account", account_id), {})
        else:
            network, handle, name = "", best_handle.get(user_id, ""), user_meta.get(user_id, "")
            hist = history.get(("user", user_id), {})
        change = {d: (round(score - hist[d], 2) if d in hist else None) for d in (1, 7, 30)}
        api = {
            "subject": "account" if account_id is not None else "user",
            "id": account_id if account_id is not None else user_id,
            "network": network,
            "handle": handle,
            "display_name": name,
            "score": round(score, 2),
            "shown": round(score),
            "bucket": bucket_for(score),
            "day": run.day.isoformat(),
            "version": version.name,
            "change_1d": change[1],
            "change_7d": change[7],
            "change_30d": change[30],
            "true_reach": round(reach, 1),
            "amplification": round(amp, 1),
            "network_score": round(net_score, 1),
            "style": style,
        }
        latest.append(
            LatestScore(
                version_id=version.pk,
                user_id=user_id,
                account_id=account_id,
                daily_id=pk,
                day=run.day,
                score=score,
                change_1d=change[1],
                change_7d=change[7],
                change_30d=change[30],
                network=network,
                handle=handle[:255],
                display_name=name[:255],
                api_json=api,
            )
        )
        cached[latest_cache_key(user_id=user_id, account_id=account_id)] = api
    subjects_accounts = [r.account_id for r in latest if r.account_id is not None]
    subjects_users = [r.user_id for r in latest if r.user_id is not None]
    _delete_latest(subjects_accounts, subjects_users)
    LatestScore.objects.bulk_create(latest, batch_size=BATCH)
    return cached


def _delete_latest(account_ids: Sequence[int], user_ids: Sequence[int]) -> None:
    for chunk in _chunks(account_ids, 5_000):
        LatestScore.objects.filter(account_id__in=chunk).delete()
    for chunk in _chunks(user_ids, 5_000):
        LatestScore.objects.filter(user_id__in=chunk).delete()


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _all_account_meta() -> dict[int, tuple[str, str, str]]:
    rows = NetworkAccount.objects.values_list(
        "pk", "network", "handle", "external_id", "display_name"
    )
    return {
        pk: (network, handle or external_id, name)
        for pk, network, handle, external_id, name in rows.iterator(chunk_size=20_000)
    }


def _best_handles(run: ScoringRun) -> dict[int, str]:
    """For user subjects: the handle of their highest-scoring linked account in the run."""
    best: dict[int, tuple[float, str]] = {}
    rows = DailyScore.objects.filter(run_id=run.pk, account__user__isnull=False).values_list(
        "account__user_id", "score", "account__handle", "account__external_id"
    )
    for user_id, score, handle, external_id in rows:
        if user_id not in best or score > best[user_id][0]:
            best[user_id] = (score, handle or external_id)
    return {u: h for u, (_s, h) in best.items()}


# --- privacy ----------------------------------------------------------------------------------


def remove_scores_for_account(*, account_id: int) -> int:
    """An account opted out or turned protected: its scores and read-model row go; return rows."""
    with transaction.atomic():
        LatestScore.objects.filter(account_id=account_id).delete()
        Explanation.objects.filter(score__account_id=account_id).delete()
        deleted, _ = DailyScore.objects.filter(account_id=account_id).delete()
    transaction.on_commit(lambda: cache.delete(latest_cache_key(account_id=account_id)))
    transaction.on_commit(bump_privacy_epoch)
    return deleted


def remove_scores_for_user(*, user_id: int) -> int:
    """A person opted out: their combined scores and those of their linked accounts go."""
    with transaction.atomic():
        account_ids = list(
            NetworkAccount.objects.filter(user_id=user_id).values_list("pk", flat=True)
        )
        removed = sum(remove_scores_for_account(account_id=a) for a in account_ids)
        LatestScore.objects.filter(user_id=user_id).delete()
        Explanation.objects.filter(score__user_id=user_id).delete()
        deleted, _ = DailyScore.objects.filter(user_id=user_id).delete()
    transaction.on_commit(lambda: cache.delete(latest_cache_key(user_id=user_id)))
    transaction.on_commit(bump_privacy_epoch)
    return removed + deleted


def held_runs() -> list[ScoringRun]:
    """Runs the anomaly guard held back, newest first (for staff)."""
    return list(
        ScoringRun.objects.filter(status=RunStatus.HELD)
        .select_related("version")
        .order_by("-day", "-pk")
    )
