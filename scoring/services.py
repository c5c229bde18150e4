"""Write paths for scores: compute a day, publish or discard a run, remove an opted-out person.

`compute_day` reads the window in bulk (`scoring.collect`), runs the engine, writes immutable
DailyScore and Explanation rows inside one transaction (a crash leaves nothing half-written),
then either holds the run (anomaly guard) or publishes it. Publishing rebuilds the LatestScore
read model and its cached API JSON, then tells higher apps through `scoring.signals.day_published`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from networks.models import NetworkAccount, Post
from scoring import signals, write
from scoring.collect import Window, collect_window
from scoring.engine.calibration import Calibration
from scoring.engine.explain import explain_change
from scoring.engine.registry import DAY, LATEST, get_version
from scoring.engine.score import EngineResult, combine_persons, score_window
from scoring.kloutids import assign_klout_ids
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
HISTORY = (1, 7, 30)  # days back for LatestScore's change_1d / 7d / 30d

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


@dataclasses.dataclass(frozen=True)
class _Lookup:
    """Scores by subject id as sorted columns, looked up many at a time."""

    ids: npt.NDArray[np.int64]
    scores: npt.NDArray[np.float64]

    @classmethod
    def of(cls, pairs: Sequence[tuple[int, float]]) -> _Lookup:
        ids = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
        scores = np.fromiter((p[1] for p in pairs), dtype=np.float64, count=len(pairs))
        order = np.argsort(ids, kind="stable")
        return cls(ids=ids[order], scores=scores[order])

    def get(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """The score of each id; NaN where there is none."""
        out = np.full(ids.shape[0], np.nan)
        if self.ids.size and ids.size:
            pos = np.minimum(np.searchsorted(self.ids, ids), self.ids.size - 1)
            found = self.ids[pos] == ids
            out[found] = self.scores[pos[found]]
        return out


@dataclasses.dataclass
class _Previous:
    """The subjects' previous published scores under the same version."""

    day: dt.date | None
    accounts: _Lookup
    users: _Lookup


def _previous_scores(*, day: dt.date, version: AlgorithmVersion) -> _Previous:
    prev_run = (
        ScoringRun.objects.published()
        .filter(version=version, day__lt=day)
        .order_by("-day")
        .only("pk", "day")
        .first()
    )
    if prev_run is None:
        return _Previous(day=None, accounts=_Lookup.of([]), users=_Lookup.of([]))
    rows = DailyScore.objects.filter(run_id=prev_run.pk).values_list(
        "account_id", "user_id", "score"
    )
    accounts: list[tuple[int, float]] = []
    users: list[tuple[int, float]] = []
    for account_id, user_id, score in rows.iterator(chunk_size=20_000):
        if account_id is not None:
            accounts.append((account_id, score))
        else:
            users.append((user_id, score))
    return _Previous(day=prev_run.day, accounts=_Lookup.of(accounts), users=_Lookup.of(users))


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
    """DailyScore rows per account and per linked user, then their explanations.

    Subjects are columns: every account (dense person index order), then every linked user, whose
    row shows the details of their best account (`person`). Rows go in through `scoring.write`
    (COPY on PostgreSQL), with primary keys known up front so explanations can refer to them.
    """
    n = window.interactions.n_people
    meta = _account_meta(window.account_ids)
    user_ids = sorted(window.groups)
    combined = combine_persons(result, [window.groups[u] for u in user_ids])
    users = np.asarray(user_ids, dtype=np.int64)
    best_member = np.asarray(
        [float(result.score[window.groups[u]].max()) for u in user_ids], dtype=np.float64
    )
    person = np.concatenate([np.arange(n, dtype=np.int64), combined.best_account.astype(np.int64)])
    score = np.concatenate(
        [
            result.score[:n].astype(np.float64),
            np.maximum(combined.score.astype(np.float64), best_member),
        ]
    )
    raw = np.concatenate([result.raw[:n].astype(np.float64), combined.raw.astype(np.float64)])
    prev = np.concatenate([previous.accounts.get(window.account_ids), previous.users.get(users)])
    counts = _Counts(accounts=n, users=len(user_ids))

    details = _details(result, window, meta)
    columns = ("run_id", "version_id", "day", "account_id", "user_id", "score", "raw", *details)
    fields = list(details.values())
    rows = (
        (run.pk, run.version_id, run.day, account_id, user_id, s, r, *(f[p] for f in fields))
        for account_id, user_id, s, r, p in zip(
            [*window.account_ids.tolist(), *([None] * len(user_ids))],
            [*([None] * n), *user_ids],
            score.tolist(),
            raw.tolist(),
            person.tolist(),
            strict=True,
        )
    )
    score_ids = write.insert(DailyScore, columns, rows, with_ids=True)
    _emit(progress, run, 0.8, "write")

    # Explanations: a change people can see (the shown score moved) since the previous day.
    compared = ~np.isnan(prev)
    counts.compared = int(compared.sum())
    counts.moved = int((np.abs(score - prev)[compared] > settings.KLOUT_ANOMALY_POINTS).sum())
    shown_moved = compared.copy()
    shown_moved[compared] = (
        np.abs(np.rint(score[compared]) - np.rint(prev[compared])) >= EXPLAIN_MIN_POINTS
    )
    if previous.day is not None and shown_moved.any():
        counts.explanations = _write_explanations(
            window=window,
            result=result,
            meta=meta,
            moments=details["moments"],
            subjects=np.flatnonzero(shown_moved),
            person=person,
            score_ids=score_ids,
        )
    _emit(progress, run, 0.95, "write")
    return counts


def _write_explanations(
    *,
    window: Window,
    result: EngineResult,
    meta: _Meta,
    moments: list[list[dict[str, Any]]],
    subjects: npt.NDArray[np.int64],
    person: npt.NDArray[np.int64],
    score_ids: npt.NDArray[np.int64],
) -> int:
    """Why each of `subjects` moved: yesterday rescored on the same arrays and calibration."""
    prev_result = _with_csc(
        score_window(
            window.interactions,
            window.posts,
            as_of=window.as_of - DAY,
            version=result.version,
            calibration=result.calibration,
        )
    )
    cur_result = _with_csc(result)
    rows: list[tuple[int, float, str, str, int]] = []
    for k in subjects.tolist():
        i = int(person[k])
        for position, d in enumerate(explain_change(prev_result, cur_result, i)):
            rows.append(
                (int(score_ids[k]), d.points, d.kind, _words(d, i, meta, moments), position)
            )
    columns = ("score_id", "points", "kind", "text", "position")
    write.insert(Explanation, columns, rows, with_ids=False)
    return len(rows)


def _with_csc(result: EngineResult) -> EngineResult:
    # explain_change slices influence by column per person; CSC makes that O(column), not O(nnz).
    return dataclasses.replace(result, influence=result.influence.tocsc())


def _details(result: EngineResult, window: Window, meta: _Meta) -> dict[str, list[Any]]:
    """The DailyScore fields that describe a person, one entry per dense person index."""
    n = window.interactions.n_people
    influencees, influencers = _top_people(result, window.account_ids, meta, TOP_K)
    return {
        "true_reach": [round(v, 3) for v in result.true_reach[:n].astype(np.float64).tolist()],
        "amplification": result.amplification[:n].astype(np.float64).tolist(),
        "network_score": result.network_score[:n].astype(np.float64).tolist(),
        "style": [result.style_name(i) for i in range(n)],
        "style_reasons": [[result.style_reason(i)] for i in range(n)],
        "network_contributions": _contributions(result, window.networks, n),
        "influencers": influencers,
        "influencees": influencees,
        "moments": _moments(result, window, TOP_K),
        "last_activity_at": [
            dt.datetime.fromtimestamp(t, tz=dt.UTC) if math.isfinite(t) else None
            for t in result.last_received[:n].astype(np.float64).tolist()
        ],
    }


def _contributions(result: EngineResult, networks: Sequence[str], n: int) -> list[dict[str, float]]:
    """Per person: network -> share of their raw score, to 4 places (zero shares left out)."""
    raw = result.raw[:n].astype(np.float64)
    contrib = result.network_contributions[:n].astype(np.float64)
    shares = np.zeros_like(contrib)
    positive = raw > 0
    shares[positive] = contrib[positive] / raw[positive, None]
    names = [networks[int(net)] for net in result.networks]
    out: list[dict[str, float]] = [{} for _ in range(n)]
    rows, cols = np.nonzero(shares > 0)
    for i, c, share in zip(rows.tolist(), cols.tolist(), shares[rows, cols].tolist(), strict=True):
        out[i][names[c]] = round(share, 4)
    return out


@dataclasses.dataclass(frozen=True)
class _Meta:
    network: list[str]
    handle: list[str]
    display_name: list[str]


def _account_meta(account_ids: npt.NDArray[np.int64]) -> _Meta:
    """Network, handle and name of every account in the window, aligned with the dense index."""
    n = account_ids.shape[0]
    networks, handles, names = [""] * n, [""] * n, [""] * n
    if not n:
        return _Meta(networks, handles, names)
    rows = list(
        NetworkAccount.objects.filter(pk__gte=int(account_ids[0]), pk__lte=int(account_ids[-1]))
        .values_list("pk", "network", "handle", "external_id", "display_name")
        .order_by()
        .iterator(chunk_size=20_000)
    )
    pks = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    pos = np.minimum(np.searchsorted(account_ids, pks), n - 1)
    found = account_ids[pos] == pks
    for i, (_pk, network, handle, external_id, name) in zip(
        pos[found].tolist(), itertools.compress(rows, found.tolist()), strict=True
    ):
        networks[i] = network
        handles[i] = handle or external_id
        names[i] = name
    return _Meta(networks, handles, names)


def _top_people(
    result: EngineResult, account_ids: npt.NDArray[np.int64], meta: _Meta, k: int
) -> tuple[list[list[dict[str, Any]]], list[list[dict[str, Any]]]]:
    """Per person: the top reactors on them (influencees) and the top people they react to."""
    coo = result.influence.tocoo()
    actor = coo.row.astype(np.int64)
    recv = coo.col.astype(np.int64)
    weight = coo.data.astype(np.float64)
    keep = weight > 0
    actor, recv, weight = actor[keep], recv[keep], weight[keep]
    ids = account_ids.tolist()
    n = account_ids.shape[0]

    def people(key: npt.NDArray[np.int64], other: npt.NDArray[np.int64]) -> list[list[Any]]:
        key, other, w = _group_top(key, other, weight, k)
        return _per_key(
            n,
            key,
            [
                {
                    "account_id": ids[o],
                    "network": meta.network[o],
                    "handle": meta.handle[o],
                    "weight": round(ww, 4),
                }
                for o, ww in zip(other.tolist(), w.tolist(), strict=True)
            ],
        )

    return people(recv, actor), people(actor, recv)


def _group_top(
    key: npt.NDArray[np.int64],
    other: npt.NDArray[np.int64],
    weight: npt.NDArray[np.float64],
    k: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The first k (other, weight) of each key by weight, as (key, other, weight) columns."""
    # Sort by (key, -weight, other): deterministic ties, then take the first k of each key.
    order = np.lexsort((other, -weight, key))
    key, other, weight = key[order], other[order], weight[order]
    if key.shape[0] == 0:
        return key, other, weight
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    lengths = np.diff(np.r_[starts, key.shape[0]])
    rank = np.arange(key.shape[0]) - np.repeat(starts, lengths)
    sel = rank < k
    return key[sel], other[sel], weight[sel]


def _per_key(n: int, key: npt.NDArray[np.int64], items: list[Any]) -> list[list[Any]]:
    """Items grouped by their key (0..n-1), in order, one list per key."""
    out: list[list[Any]] = [[] for _ in range(n)]
    for kk, item in zip(key.tolist(), items, strict=True):
        out[kk].append(item)
    return out


def _moments(result: EngineResult, window: Window, k: int) -> list[list[dict[str, Any]]]:
    """Per person, the k posts that drove the most action (post ids, actions, text, time)."""
    n = window.interactions.n_people
    actions = result.post_actions
    author = result.post_author[: actions.shape[0]]
    idx = np.arange(actions.shape[0], dtype=np.int64)
    keep = (actions > 0) & (author >= 0)
    key, post, weight = _group_top(author[keep], idx[keep], actions[keep].astype(np.float64), k)
    post_ids = window.post_ids[post].tolist()
    texts: dict[int, tuple[str, dt.datetime | None]] = {}
    for chunk in _chunks(sorted(set(post_ids)), 2_000):
        for pk, body, when in Post.objects.filter(pk__in=chunk).values_list(
            "pk", "text", "posted_at"
        ):
            texts[pk] = (body, when)
    items = []
    for post_id, w in zip(post_ids, weight.tolist(), strict=True):
        text, posted_at = texts.get(post_id, ("", None))
        items.append(
            {
                "post_id": post_id,
                "text": _snippet(text),
                "posted_at": posted_at.isoformat() if posted_at else None,
                "actions": int(round(w, 4)),
            }
        )
    return _per_key(n, key, items)


def _snippet(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _words(driver: Any, person: int, meta: _Meta, moments: list[list[dict[str, Any]]]) -> str:
    """Engine drivers name people and posts by index; say their handles and words instead."""
    if driver.kind == "person":
        text: str = driver.text
        who = text.rsplit("#", 1)[-1]
        if who.isdigit() and int(who) < len(meta.handle):
            return f"your strongest reactor is @{meta.handle[int(who)]}"
    if driver.kind == "post" and moments[person]:
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
        assign_klout_ids(run_id=run.pk)
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


_LATEST_COLUMNS = (
    "version_id",
    "user_id",
    "account_id",
    "daily_id",
    "day",
    "score",
    "change_1d",
    "change_7d",
    "change_30d",
    "network",
    "handle",
    "display_name",
    "api_json",
)


def _rebuild_latest(run: ScoringRun) -> dict[str, Any]:
    """Rewrite LatestScore rows for the run's subjects; return the API JSON to cache."""
    version = run.version
    if not version.is_current:
        return {}  # another series: its history is kept, pages show the current version
    newer = ScoringRun.objects.published().filter(version=version, day__gt=run.day).exists()
    if newer:
        return {}  # a backfilled day: history only, the read model already shows a later day
    LatestScore.objects.exclude(version=version).delete()

    rows: list[tuple[Any, ...]] = []
    cached: dict[str, Any] = {}
    for subject in _latest_sources(run):
        (pk, account_id, user_id, score, reach, amp, net_score, style, network, handle, name) = (
            subject[:11]
        )
        change = [None if past is None else round(score - past, 2) for past in subject[11:]]
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
            "change_1d": change[0],
            "change_7d": change[1],
            "change_30d": change[2],
            "true_reach": round(reach, 1),
            "amplification": round(amp, 1),
            "network_score": round(net_score, 1),
            "style": style,
        }
        subject_row = (version.pk, user_id, account_id, pk, run.day, score, *change)
        rows.append((*subject_row, network, handle[:255], name[:255], api))
        cached[latest_cache_key(user_id=user_id, account_id=account_id)] = api
    in_run = DailyScore.objects.filter(run_id=run.pk)
    LatestScore.objects.filter(
        Q(account_id__in=in_run.filter(account_id__isnull=False).values("account_id"))
        | Q(user_id__in=in_run.filter(user_id__isnull=False).values("user_id"))
    ).delete()
    write.insert(LatestScore, _LATEST_COLUMNS, rows, with_ids=False)
    return cached


def _latest_sources(run: ScoringRun) -> Iterator[tuple[Any, ...]]:
    """Per score of the run, in one query: its figures, who it is and its 1/7/30-day history.

    Yields (daily id, account id, user id, score, true reach, amplification, network score,
    style, network, handle, display name, score 1, 7 and 30 days before or None). A user shows the
    handle of their highest-scoring linked account in the run and their name (else e-mail name).
    """
    from django.contrib.auth import get_user_model

    score_table = DailyScore._meta.db_table
    run_table = ScoringRun._meta.db_table
    account_table = NetworkAccount._meta.db_table
    user_table = get_user_model()._meta.db_table
    past = [connection.ops.adapt_datefield_value(run.day - dt.timedelta(days=d)) for d in HISTORY]
    history = ", ".join(f"MAX(CASE WHEN h.day = %s THEN h.score END) AS d{d}" for d in HISTORY)
    sql = f"""
        WITH hist AS (
            SELECT COALESCE(h.account_id, -h.user_id) AS subject, {history}
            FROM {score_table} h JOIN {run_table} r ON r.id = h.run_id
            WHERE r.status = %s AND h.version_id = %s AND h.day IN (%s, %s, %s)
            GROUP BY COALESCE(h.account_id, -h.user_id)
        ),
        best AS (
            SELECT a.user_id, a.handle, a.external_id,
                   ROW_NUMBER() OVER (PARTITION BY a.user_id ORDER BY s.score DESC, s.id) AS rank
            FROM {score_table} s JOIN {account_table} a ON a.id = s.account_id
            WHERE s.run_id = %s AND a.user_id IS NOT NULL
        )
        SELECT d.id, d.account_id, d.user_id, d.score, d.true_reach, d.amplification,
               d.network_score, d.style, a.network, a.handle, a.external_id, a.display_name,
               b.handle, b.external_id, u.display_name, u.email,
               {", ".join(f"hist.d{d}" for d in HISTORY)}
        FROM {score_table} d
        LEFT JOIN {account_table} a ON a.id = d.account_id
        LEFT JOIN {user_table} u ON u.id = d.user_id
        LEFT JOIN best b ON b.user_id = d.user_id AND b.rank = 1
        LEFT JOIN hist ON hist.subject = COALESCE(d.account_id, -d.user_id)
        WHERE d.run_id = %s
        ORDER BY d.id
    """
    params = [*past, RunStatus.PUBLISHED.value, run.version_id, *past, run.pk, run.pk]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(20_000):
            for row in batch:
                head, (net, handle, ext_id, a_name, b_handle, b_ext_id, u_name, email) = (
                    row[:8],
                    row[8:16],
                )
                if row[1] is not None:
                    who = (net, handle or ext_id, a_name)
                else:
                    who = ("", b_handle or b_ext_id or "", u_name or email.split("@", 1)[0])
                yield (*head, *who, *row[16:])


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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
