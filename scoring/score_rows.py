"""The rows a scoring run writes, shaped from the engine's output.

One DailyScore row per account and per linked user (figures, style, network shares, top
influencers and influencees, moments), then Explanation rows for the subjects whose shown score
moved since the previous published day. Rows go in through `scoring.write` (COPY on PostgreSQL).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from django.conf import settings

from networks.models import NetworkAccount, Post
from scoring import write
from scoring.collect import Window
from scoring.engine.explain import explain_change
from scoring.engine.registry import DAY
from scoring.engine.score import EngineResult, combine_persons, score_window
from scoring.engine.styles import STYLES
from scoring.fields import compact
from scoring.influence import influence_totals
from scoring.models import AlgorithmVersion, DailyScore, Explanation, ScoringRun
from scoring.wording import words

TOP_K = 5
# Explanations explain a change people can see: the shown (rounded) score moved.
EXPLAIN_MIN_POINTS = 0.5


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
class Previous:
    """The subjects' previous published scores under the same version."""

    day: dt.date | None
    accounts: _Lookup
    users: _Lookup


def previous_scores(*, day: dt.date, version: AlgorithmVersion) -> Previous:
    prev_run = (
        ScoringRun.objects.published()
        .filter(version=version, day__lt=day)
        .order_by("-day")
        .only("pk", "day")
        .first()
    )
    if prev_run is None:
        return Previous(day=None, accounts=_Lookup.of([]), users=_Lookup.of([]))
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
    return Previous(day=prev_run.day, accounts=_Lookup.of(accounts), users=_Lookup.of(users))


@dataclasses.dataclass
class Counts:
    accounts: int = 0
    users: int = 0
    explanations: int = 0
    compared: int = 0
    moved: int = 0

    def as_stats(self) -> dict[str, int]:
        return dataclasses.asdict(self)


def write_scores(
    *,
    run: ScoringRun,
    window: Window,
    result: EngineResult,
    previous: Previous,
    emit: Callable[[float], None],
    yesterday: Callable[[], EngineResult] | None = None,
) -> Counts:
    """DailyScore rows per account and per linked user, then their explanations.

    Subjects are columns: every account (dense person index order), then every linked user, whose
    row shows the details of their best account (`person`). Rows go in through `scoring.write`
    (COPY on PostgreSQL), with primary keys known up front so explanations can refer to them.
    Explanations compare with `yesterday()` (default: the day before rescored on the window's
    arrays; Spark's imported scores bring their own).
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
    counts = Counts(accounts=n, users=len(user_ids))

    moments = _moments(result, window, TOP_K)
    details = _Details(result, window, meta, moments)
    columns = ("run_id", "version_id", "day", "account_id", "user_id", "score", "raw", *FIELDS)
    head = (run.pk, run.version_id, run.day)

    def slices() -> Iterator[list[list[Any]]]:
        # A slice of people at a time, as columns: their text never exists for everyone at once.
        for a in range(0, n, CHUNK):
            b = min(n, a + CHUNK)
            m = b - a
            yield [
                *([value] * m for value in head),
                window.account_ids[a:b].tolist(),
                [None] * m,
                score[a:b].tolist(),
                raw[a:b].tolist(),
                *details.columns(a, b),
            ]
        if user_ids:
            # A user's row shows their best account's details (`person`), one person at a time.
            per_user = [details.columns(p, p + 1) for p in person[n:].tolist()]
            m = len(user_ids)
            yield [
                *([value] * m for value in head),
                [None] * m,
                list(user_ids),
                score[n:].tolist(),
                raw[n:].tolist(),
                *([c[0] for c in column] for column in zip(*per_user, strict=True)),
            ]

    score_ids = write.insert_columns(
        DailyScore, columns, slices(), with_ids=True, json_text=JSON_TEXT, count=n + len(user_ids)
    )
    emit(0.8)

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
            yesterday=yesterday,
            window=window,
            result=result,
            moments=moments,
            subjects=np.flatnonzero(shown_moved),
            person=person,
            score_ids=score_ids,
        )
    emit(0.95)
    return counts


def _write_explanations(
    *,
    yesterday: Callable[[], EngineResult] | None,
    window: Window,
    result: EngineResult,
    moments: list[list[dict[str, Any]]],
    subjects: npt.NDArray[np.int64],
    person: npt.NDArray[np.int64],
    score_ids: npt.NDArray[np.int64],
) -> int:
    """Why each of `subjects` moved: yesterday rescored on the same arrays and calibration."""
    if yesterday is not None:
        before = yesterday()
    else:
        before = score_window(
            window.interactions,
            window.posts,
            as_of=window.as_of - DAY,
            version=result.version,
            calibration=result.calibration,
        )
    prev_result = _with_csc(before)
    cur_result = _with_csc(result)
    account_ids = window.account_ids.tolist()
    rows: list[tuple[int, float, str, str, int, int | None]] = []
    for k in subjects.tolist():
        i = int(person[k])
        for position, d in enumerate(explain_change(prev_result, cur_result, i)):
            text, about = words(d, i, account_ids, moments)
            rows.append((int(score_ids[k]), d.points, d.kind, text, position, about))
    columns = ("score_id", "points", "kind", "text", "position", "about_account_id")
    write.insert(Explanation, columns, rows, with_ids=False)
    return len(rows)


def _with_csc(result: EngineResult) -> EngineResult:
    # explain_change slices influence by column per person; CSC makes that O(column), not O(nnz).
    return dataclasses.replace(result, influence=result.influence.tocsc())


# DailyScore's JSON columns are handed to `scoring.write` as JSON text, shaped here straight from
# the engine's arrays: no dict per item and no json.dumps per row (they were a third of the write).
JSON_TEXT = frozenset(
    {"style_reasons", "network_contributions", "influencers", "influencees", "moments"}
)


FIELDS = (
    "true_reach",
    "amplification",
    "network_score",
    "style",
    "style_reasons",
    "network_contributions",
    "influencers",
    "influencees",
    "influencers_count",
    "influencees_count",
    "moments",
    "last_activity_at",
)
# People whose row text is shaped at a time: small enough that the server ingests one slice
# while the next is shaped (`scoring.write` sends from a second thread).
CHUNK = 20_000


class _Details:
    """The DailyScore fields that describe a person (`FIELDS`), shaped a slice of people at a time.

    What needs every edge (the top five per person, the totals, the network shares) is found
    once as arrays; the rows' text comes from those arrays for one slice of people at a time.
    """

    def __init__(
        self,
        result: EngineResult,
        window: Window,
        meta: _Meta,
        moments: list[list[dict[str, Any]]],
    ) -> None:
        n = window.interactions.n_people
        self.result = result
        self.n = n
        self.moments = moments
        self.influencees, self.influencers = _top_people(result, window.account_ids, meta, TOP_K)
        totals = influence_totals(result, n)
        self.influencers_count = np.asarray(totals[0], dtype=np.int64)
        self.influencees_count = np.asarray(totals[1], dtype=np.int64)
        del totals
        self.contributions = _Contributions(result, window.networks, n)
        self.reasons: dict[tuple[Any, ...], str] = {}

    def columns(self, a: int, b: int) -> list[list[Any]]:
        """The fields of people a..b-1, one list each in `FIELDS` order."""
        result = self.result
        return [
            [round(v, 3) for v in result.true_reach[a:b].astype(np.float64).tolist()],
            result.amplification[a:b].astype(np.float64).tolist(),
            result.network_score[a:b].astype(np.float64).tolist(),
            [STYLES[c] for c in result.style[a:b].tolist()],
            _style_reasons(result, a, b, self.reasons),
            self.contributions.text(a, b),
            self.influencers.text(a, b),
            self.influencees.text(a, b),
            self.influencers_count[a:b].tolist(),
            self.influencees_count[a:b].tolist(),
            [compact(m) if m else "[]" for m in self.moments[a:b]],
            [
                dt.datetime.fromtimestamp(t, tz=dt.UTC) if math.isfinite(t) else None
                for t in result.last_received[a:b].astype(np.float64).tolist()
            ],
        ]


def _style_reasons(
    result: EngineResult, a: int, b: int, known: dict[tuple[Any, ...], str]
) -> list[str]:
    """People a..b-1: ``[reason]`` as JSON text; people with the same traits share one sentence."""
    traits = result.traits
    columns = (
        traits.code[a:b].tolist(),
        traits.creating[a:b].tolist(),
        (traits.focused[a:b] >= 0.5).tolist(),
        traits.participating[a:b].tolist(),
        traits.consistent[a:b].tolist(),
    )
    out: list[str] = []
    for i, key in enumerate(zip(*columns, strict=True), start=a):
        text = known.get(key)
        if text is None:
            text = known[key] = compact([result.style_reason(i)])
        out.append(text)
    return out


class _Contributions:
    """Per person: {network: share of their raw score, to 4 places} as JSON text (no zeros)."""

    def __init__(self, result: EngineResult, networks: Sequence[str], n: int) -> None:
        raw = result.raw[:n].astype(np.float64)
        contrib = result.network_contributions[:n].astype(np.float64)
        positive = raw > 0
        contrib[positive] /= raw[positive, None]
        contrib[~positive] = 0.0
        self.names = [json.dumps(networks[int(net)]) for net in result.networks]
        rows, cols = np.nonzero(contrib > 0)
        self.key = rows.astype(np.int64)
        self.col = cols.astype(np.int64)
        self.share = contrib[rows, cols]

    def text(self, a: int, b: int) -> list[str]:
        lo, hi = np.searchsorted(self.key, [a, b])
        names = self.names
        items = [
            f"{names[c]}:{round(share, 4)!r}"
            for c, share in zip(self.col[lo:hi].tolist(), self.share[lo:hi].tolist(), strict=True)
        ]
        return _joined(b - a, self.key[lo:hi] - a, items, "{}")


def _joined(n: int, key: npt.NDArray[np.int64], items: list[str], empty: str) -> list[str]:
    """Per key 0..n-1 (`key` sorted): its items joined into one JSON array or object."""
    out = [empty] * n
    if not items:
        return out
    open_, close = empty[0], empty[1]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[starts[1:], key.shape[0]]
    for k, a, b in zip(key[starts].tolist(), starts.tolist(), ends.tolist(), strict=True):
        out[k] = open_ + ",".join(items[a:b]) + close
    return out


@dataclasses.dataclass(frozen=True)
class _Meta:
    network: list[str]  # the items of the top five carry the network, never a name


def _account_meta(account_ids: npt.NDArray[np.int64]) -> _Meta:
    """The network of every account in the window, aligned with the dense index."""
    n = account_ids.shape[0]
    networks = [""] * n
    if not n:
        return _Meta(networks)
    rows = (
        NetworkAccount.objects.filter(pk__gte=int(account_ids[0]), pk__lte=int(account_ids[-1]))
        .values_list("pk", "network")
        .order_by()
        .iterator(chunk_size=50_000)
    )
    while batch := list(itertools.islice(rows, 50_000)):
        pks = np.fromiter((r[0] for r in batch), dtype=np.int64, count=len(batch))
        pos = np.minimum(np.searchsorted(account_ids, pks), n - 1)
        found = account_ids[pos] == pks
        for i, (_pk, network) in zip(
            pos[found].tolist(), itertools.compress(batch, found.tolist()), strict=True
        ):
            networks[i] = network
    return _Meta(networks)


@dataclasses.dataclass(frozen=True)
class _TopPeople:
    """The top five per person as sorted columns; their JSON text is shaped a slice at a time.

    Items are ``{"account_id", "network", "weight"}`` with no handle: pages name people at view
    time through the hidden rule, and a final row must not keep naming someone who later deletes
    themselves.
    """

    key: npt.NDArray[np.int64]
    other: npt.NDArray[np.int64]
    weight: npt.NDArray[np.float64]
    ids: npt.NDArray[np.int64]
    network: list[str]  # JSON-quoted network per dense index

    def text(self, a: int, b: int) -> list[str]:
        lo, hi = np.searchsorted(self.key, [a, b])
        # Each account named in the slice is shaped once; an item adds its weight (4 places).
        named, at = np.unique(self.other[lo:hi], return_inverse=True)
        network = self.network
        heads = [
            f'{{"account_id":{account_id},"network":{network[o]},"weight":'
            for o, account_id in zip(named.tolist(), self.ids[named].tolist(), strict=True)
        ]
        items = [
            f"{heads[i]}{_four_places(ww)}}}"
            for i, ww in zip(at.tolist(), self.weight[lo:hi].tolist(), strict=True)
        ]
        return _joined(b - a, self.key[lo:hi] - a, items, "[]")


def _four_places(x: float) -> str:
    """``repr(round(x, 4))`` for the weights of the top five (at most 1e11), at half the cost."""
    text = f"{x:.4f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def _top_people(
    result: EngineResult, account_ids: npt.NDArray[np.int64], meta: _Meta, k: int
) -> tuple[_TopPeople, _TopPeople]:
    """Per person: the top reactors on them (influencees) and the top people they react to."""
    influence = result.influence.tocsr()
    if not influence.has_canonical_format:
        influence = influence.copy()
        influence.sum_duplicates()  # also sorts each row's columns
    # Row-major with ascending columns: actors ascend overall, receivers within each actor.
    coo = influence.tocoo()
    keep = coo.data > 0
    # Narrow types while sorting every edge (100M at the largest size): int32 people, the
    # matrix's own float32 weights (the same order as float64 of them).
    actor = coo.row[keep].astype(np.int32)
    recv = coo.col[keep].astype(np.int32)
    weight = coo.data[keep]
    del coo, keep
    quoted = {name: json.dumps(name) for name in set(meta.network)}
    network = [quoted[name] for name in meta.network]

    def people(key: npt.NDArray[Any], other: npt.NDArray[Any]) -> _TopPeople:
        key, other, w = _group_top(key, other, weight, k)
        return _TopPeople(
            key.astype(np.int64), other.astype(np.int64), w.astype(np.float64), account_ids, network
        )

    return people(recv, actor), people(actor, recv)


def _group_top(
    key: npt.NDArray[Any],
    other: npt.NDArray[Any],
    weight: npt.NDArray[Any],
    k: int,
) -> tuple[npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any]]:
    """The first k (other, weight) of each key by weight, as (key, other, weight) columns.

    Ties go to the smaller `other`. Callers hand `other` ascending within each key already (rows
    of a canonical sparse matrix, or posts by index), so a stable sort on (key, -weight) keeps
    that order and the third sort key is not needed.
    """
    order = _key_then_heaviest(key, weight)
    key, other, weight = key[order], other[order], weight[order]
    if key.shape[0] == 0:
        return key, other, weight
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    lengths = np.diff(np.r_[starts, key.shape[0]])
    rank = np.arange(key.shape[0]) - np.repeat(starts, lengths)
    sel = rank < k
    return key[sel], other[sel], weight[sel]


def _key_then_heaviest(key: npt.NDArray[Any], weight: npt.NDArray[Any]) -> npt.NDArray[np.intp]:
    """A stable order by key ascending, then weight descending (ties keep their order).

    For positive float32 weights and non-negative int32-sized keys (every edge of the influence
    matrix) this is one stable sort of a packed uint64 (key in the high half, the weight's bits
    inverted in the low half: positive floats order as their bit patterns), about half the time
    of `lexsort`'s two passes over 2M edges; anything else falls back to `lexsort`.
    """
    if (
        weight.dtype == np.float32
        and key.shape[0] > 0
        and np.issubdtype(key.dtype, np.integer)
        and int(key.min()) >= 0
        and int(key.max()) <= np.iinfo(np.int32).max
        and bool((weight > 0).all())
    ):
        inverted = np.uint32(0xFFFFFFFF) - weight.view(np.uint32)
        packed = (key.astype(np.uint64) << np.uint64(32)) | inverted.astype(np.uint64)
        return np.argsort(packed, kind="stable")
    return np.lexsort((-weight, key))


def _per_key(n: int, key: npt.NDArray[np.int64], items: list[Any]) -> list[list[Any]]:
    """Items grouped by their key (0..n-1), in order, one list per key (keys without items share
    one empty list: read it, never append to it)."""
    empty: list[Any] = []
    out: list[list[Any]] = [empty] * n
    for kk, item in zip(key.tolist(), items, strict=True):
        if out[kk] is empty:
            out[kk] = []
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


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
