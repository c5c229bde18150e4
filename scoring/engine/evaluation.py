"""The spec's forecast evaluation: cut at T, score from pre-T data, predict post-T received actions.

Metrics: Spearman rho over everyone seen before T (rho_all) and over accounts that received
something before T (rho_recv), Kendall tau_b, precision@100 against the top-100 receivers after T,
with bootstrap 95% intervals. Baselines: in-count, distinct reactors, PageRank (damping 0.85),
random. The score rows also carry the gap to the best baseline on rho_recv with a paired
bootstrap interval (both rhos on the same resamples): two overlapping intervals say little, the
interval of the difference says whether the score really is ahead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy import stats

from scoring.engine.edgelist import EdgeList
from scoring.engine.graph import edge_matrix, pagerank

FloatArray = npt.NDArray[np.float64]
METHODS = ("score", "score-1-100", "in-count", "distinct", "pagerank", "random")
SCORES = ("score", "score-1-100")
BASELINES = ("in-count", "distinct", "pagerank", "random")
GAP = "rho_recv_minus_best_baseline"
COLUMNS = ("rho_all", "rho_recv", "tau_b", "p_at_100")


@dataclass(frozen=True)
class Split:
    """Pre-T rows (as local dense indices) and the post-T target for one cut."""

    name: str
    cut: float
    n_people: int
    actor: npt.NDArray[np.int32]
    receiver: npt.NDArray[np.int32]
    time: FloatArray
    kind: npt.NDArray[np.int8]
    target: FloatArray  # actions received in [T, end) per population member
    received_before: npt.NDArray[np.bool_]


@dataclass
class Row:
    """One method's figures on one set (the JSON row the spec asks for)."""

    set: str
    cut: str
    method: str
    rho_all: float
    rho_recv: float
    tau_b: float
    p_at_100: float
    ci95: dict[str, list[float]] = field(default_factory=dict)
    # score rows only: the baseline with the highest rho_recv on this set, and the score's gap to it
    best_baseline: str | None = None
    rho_recv_minus_best_baseline: float | None = None


def iso(ts: float) -> str:
    """Unix seconds as an ISO-8601 UTC string."""
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).isoformat().replace("+00:00", "Z")


def parse_cut(edges: EdgeList, cut: str) -> float:
    """Resolve ``median`` (median event time) or an ISO time to unix seconds."""
    if cut == "median":
        return float(np.median(edges.time))
    when = dt.datetime.fromisoformat(cut.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def make_split(edges: EdgeList, cut: float, name: str) -> Split:
    """Cut the edge list at ``cut``: population = everyone seen before it, re-indexed densely."""
    before = edges.time < cut
    a, r = edges.actor[before], edges.receiver[before]
    seen = np.zeros(edges.n_people, dtype=bool)
    seen[a] = True
    seen[r] = True
    local = np.full(edges.n_people, -1, dtype=np.int64)
    local[seen] = np.arange(int(seen.sum()))
    n = int(seen.sum())
    w_before = edges.weight[before]
    reps = np.maximum(np.rint(w_before), 1).astype(np.int64)
    after = ~before
    target = np.zeros(n, dtype=np.float64)
    ra = local[edges.receiver[after]]
    keep = ra >= 0
    np.add.at(target, ra[keep], edges.weight[after][keep])
    la = np.repeat(local[a], reps).astype(np.int32)
    lr = np.repeat(local[r], reps).astype(np.int32)
    received = np.zeros(n, dtype=bool)
    received[lr] = True
    return Split(
        name=name,
        cut=cut,
        n_people=n,
        actor=la,
        receiver=lr,
        time=np.repeat(edges.time[before], reps),
        kind=np.repeat(edges.kind[before], reps),
        target=target,
        received_before=received,
    )


# --- metrics --------------------------------------------------------------------------------


def spearman(x: FloatArray, y: FloatArray) -> float:
    """Spearman rho with average ranks for ties (matches scipy.stats.spearmanr)."""
    if x.shape[0] < 2:
        return float("nan")
    rx = stats.rankdata(x)
    ry = stats.rankdata(y)
    sx, sy = rx.std(), ry.std()
    if sx == 0 or sy == 0:
        return float("nan")
    return float(((rx - rx.mean()) * (ry - ry.mean())).mean() / (sx * sy))


def kendall_tau_b(x: FloatArray, y: FloatArray) -> float:
    """Kendall tau_b (ties handled), O(n log n) via scipy."""
    if x.shape[0] < 2:
        return float("nan")
    return float(stats.kendalltau(x, y, variant="b").statistic)


def top_k(values: FloatArray, k: int) -> npt.NDArray[np.int64]:
    """Indices of the k largest values; ties broken by lower index (deterministic)."""
    order = np.lexsort((np.arange(values.shape[0]), -values))
    return order[:k]


def precision_at_k(score: FloatArray, target: FloatArray, k: int = 100) -> float:
    """Share of the score's top-k that are among the target's top-k."""
    k = min(k, score.shape[0])
    if k == 0:
        return float("nan")
    return len(set(top_k(score, k).tolist()) & set(top_k(target, k).tolist())) / k


def bootstrap_ci(
    stat: Callable[[FloatArray, FloatArray], float],
    x: FloatArray,
    y: FloatArray,
    *,
    n_boot: int,
    seed: int = 0,
) -> list[float]:
    """Percentile bootstrap 95% interval of ``stat(x, y)`` resampling people with replacement."""
    if n_boot <= 0 or x.shape[0] < 2:
        return [float("nan"), float("nan")]
    rng = np.random.default_rng(seed)
    n = x.shape[0]
    vals = np.empty(n_boot)
    for b in range(n_boot):
        idx = rng.integers(0, n, n)
        vals[b] = stat(x[idx], y[idx])
    lo, hi = np.nanpercentile(vals, [2.5, 97.5])
    return [round(float(lo), 4), round(float(hi), 4)]


def paired_bootstrap_diff_ci(
    stat: Callable[[FloatArray, FloatArray], float],
    x1: FloatArray,
    x2: FloatArray,
    y: FloatArray,
    *,
    n_boot: int,
    seed: int = 0,
) -> list[float]:
    """Percentile bootstrap 95% interval of ``stat(x1, y) - stat(x2, y)``, paired.

    Both statistics are computed on the same resample of people each time (with the same seed the
    resamples are those of :func:`bootstrap_ci`), so what the two predictions share cancels out.
    """
    if n_boot <= 0 or x1.shape[0] < 2:
        return [float("nan"), float("nan")]
    rng = np.random.default_rng(seed)
    n = x1.shape[0]
    vals = np.empty(n_boot)
    for b in range(n_boot):
        idx = rng.integers(0, n, n)
        yb = y[idx]
        vals[b] = stat(x1[idx], yb) - stat(x2[idx], yb)
    lo, hi = np.nanpercentile(vals, [2.5, 97.5])
    return [round(float(lo), 4), round(float(hi), 4)]


# --- baselines ------------------------------------------------------------------------------


def baseline_in_count(split: Split) -> FloatArray:
    """Actions received before T."""
    return np.bincount(split.receiver, minlength=split.n_people).astype(np.float64)


def baseline_distinct(split: Split) -> FloatArray:
    """Distinct people who acted on the account before T."""
    n = split.n_people
    pairs = np.unique(split.actor.astype(np.int64) * n + split.receiver)
    return np.bincount(pairs % n, minlength=n).astype(np.float64)


def baseline_pagerank(split: Split) -> FloatArray:
    """PageRank (damping 0.85) on the pre-T actor -> receiver graph, weight split over targets."""
    return pagerank(edge_matrix(split.actor, split.receiver, None, split.n_people), damping=0.85)


def baseline_random(split: Split) -> FloatArray:
    """Random scores (seeded): the floor."""
    return np.random.default_rng(12345).random(split.n_people)


# --- the protocol ---------------------------------------------------------------------------


def evaluate_method(
    split: Split, method: str, prediction: FloatArray, *, n_boot: int = 100, seed: int = 0
) -> Row:
    """All columns (and intervals) for one prediction vector over the split's population."""
    y = split.target
    recv = split.received_before
    x_recv, y_recv = prediction[recv], y[recv]
    ci: dict[str, list[float]] = {}
    if n_boot > 0:
        ci["rho_all"] = bootstrap_ci(spearman, prediction, y, n_boot=n_boot, seed=seed)
        ci["rho_recv"] = bootstrap_ci(spearman, x_recv, y_recv, n_boot=n_boot, seed=seed)
        ci["tau_b"] = bootstrap_ci(
            kendall_tau_b, prediction, y, n_boot=max(10, n_boot // 5), seed=seed
        )
        ci["p_at_100"] = bootstrap_ci(precision_at_k, prediction, y, n_boot=n_boot, seed=seed)
    return Row(
        set=split.name,
        cut=iso(split.cut),
        method=method,
        rho_all=round(spearman(prediction, y), 4),
        rho_recv=round(spearman(x_recv, y_recv), 4),
        tau_b=round(kendall_tau_b(prediction, y), 4),
        p_at_100=round(precision_at_k(prediction, y), 4),
        ci95=ci,
    )


def score_split(split: Split, version: str | None = None) -> tuple[FloatArray, FloatArray]:
    """The engine's raw score and calibrated 1-100 score from pre-T data only."""
    from scoring.engine.calibration import calibrate
    from scoring.engine.registry import LATEST, get_version
    from scoring.engine.score import score_window
    from scoring.engine.types import Interactions

    n = split.actor.shape[0]
    inter = Interactions(
        actor=split.actor,
        receiver=split.receiver,
        kind=split.kind,
        time=split.time,
        post=np.full(n, -1, dtype=np.int64),
        network=np.zeros(n, dtype=np.int8),
        n_people=split.n_people,
    )
    algo = get_version(version or LATEST)
    as_of = split.cut
    first = score_window(inter, None, as_of=as_of, version=algo)
    cal = calibrate(first.raw, version=algo.name)
    result = score_window(inter, None, as_of=as_of, version=algo, calibration=cal)
    return result.raw, result.score


def evaluate_split(
    split: Split,
    *,
    n_boot: int = 100,
    version: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Row]:
    """Score and baselines on one split, every column."""
    say = progress or (lambda _msg: None)
    say(f"{split.name}: scoring {split.n_people:,} people from {split.actor.shape[0]:,} actions")
    raw, score = score_split(split, version)
    predictions: dict[str, FloatArray] = {
        "score": raw,
        "score-1-100": score,
        "in-count": baseline_in_count(split),
        "distinct": baseline_distinct(split),
        "pagerank": baseline_pagerank(split),
        "random": baseline_random(split),
    }
    rows = []
    for method in METHODS:
        say(f"{split.name}: metrics for {method}")
        rows.append(evaluate_method(split, method, predictions[method], n_boot=n_boot))
    add_best_baseline_gap(split, rows, predictions, n_boot=n_boot)
    return rows


def add_best_baseline_gap(
    split: Split,
    rows: list[Row],
    predictions: dict[str, FloatArray],
    *,
    n_boot: int,
    seed: int = 0,
) -> None:
    """Mark the score rows with the best baseline on rho_recv and the paired interval of the gap."""
    by_method = {row.method: row for row in rows}
    candidates = [m for m in BASELINES if m in by_method and not np.isnan(by_method[m].rho_recv)]
    if not candidates:
        return
    # ties go to the earlier baseline in BASELINES (deterministic)
    best = max(candidates, key=lambda m: (by_method[m].rho_recv, -BASELINES.index(m)))
    recv = split.received_before
    y = split.target[recv]
    base = predictions[best][recv]
    for method in SCORES:
        row = by_method.get(method)
        if row is None:
            continue
        x = predictions[method][recv]
        row.best_baseline = best
        row.rho_recv_minus_best_baseline = round(spearman(x, y) - spearman(base, y), 4)
        if n_boot > 0:
            row.ci95[GAP] = paired_bootstrap_diff_ci(spearman, x, base, y, n_boot=n_boot, seed=seed)


def development_sets(shared: Path) -> list[tuple[str, Path, str]]:
    """The spec's development sets: (name, path, cut)."""
    higgs = shared / "higgs-twitter" / "higgs-activity_time.txt.gz"
    college = shared / "collegemsg" / "CollegeMsg.txt.gz"
    return [
        ("higgs-twitter T=2012-07-04", higgs, "2012-07-04T00:00:00Z"),
        ("higgs-twitter T=median", higgs, "median"),
        ("collegemsg T=median", college, "median"),
    ]


def format_table(rows: Iterable[Row]) -> str:
    """A plain-text table of the rows, one line per (set, method)."""
    lines = [
        f"{'set':<28} {'method':<12} {'rho_all':>8} {'rho_recv':>9} {'tau_b':>7} {'p@100':>6}"
        f"  {'rho_recv 95% CI':>17}"
    ]
    last = None
    gaps: list[str] = []
    for row in rows:
        if last is not None and row.set != last:
            lines += gaps
            gaps = []
            lines.append("")
        last = row.set
        ci = row.ci95.get("rho_recv")
        ci_txt = f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""
        lines.append(
            f"{row.set:<28} {row.method:<12} {row.rho_all:>8.3f} {row.rho_recv:>9.3f} "
            f"{row.tau_b:>7.3f} {row.p_at_100:>6.2f}  {ci_txt:>17}"
        )
        if row.best_baseline is not None and row.rho_recv_minus_best_baseline is not None:
            gap_ci = row.ci95.get(GAP)
            gap_ci_txt = (
                f", paired bootstrap 95% CI [{gap_ci[0]:+.3f}, {gap_ci[1]:+.3f}]" if gap_ci else ""
            )
            gaps.append(
                f"{'':<28} {row.method} - {row.best_baseline} (best baseline) rho_recv: "
                f"{row.rho_recv_minus_best_baseline:+.3f}{gap_ci_txt}"
            )
    lines += gaps
    return "\n".join(lines)


def rows_to_json(rows: Iterable[Row]) -> dict[str, list[dict[str, object]]]:
    """The spec's JSON shape: ``{"sets": [row, ...]}`` (gap fields on the score rows only)."""
    return {"sets": [{k: v for k, v in asdict(r).items() if v is not None} for r in rows]}
