"""The Klout score for one window: reach, amplification, network, anti-gaming, calibration.

Model (version ``klout-2026.1``), per receiver ``i`` over the rolling window before ``as_of``:

- **Reach** ``R_i``: every reactor ``j`` contributes once per time bucket (6 h) in which it acted
  on ``i``, decayed by age (half-life 30 days), so sustained reach beats a single burst and a burst
  fades. Self-reactions count nothing.
- **Anti-gaming weights** on each reactor: selectivity (a reactor acting on more than
  ``selective_limit`` people is scaled by ``sqrt(limit / distinct targets)``; bots that react to
  everything and receive nothing barely count) and back-scratching (a mutual pair between peers,
  the reactor at least as reached as the receiver, counts ``reciprocal_weight``; rings of accounts
  mostly reacting to each other are made of such pairs). Reacting to people below you is never
  discounted, so engaging down never costs you.
- **Volume**: beyond distinct reach, decayed action volume adds ``volume_weight * log1p(volume)``
  for accounts with at least ``volume_min_reach`` reach.
- **Network**: weighted PageRank over the same weighted actor -> receiver graph (each actor's
  weight spread over what it reacts to); only above-average PageRank adds, so who reacts matters.
- **Amplification**: when posts are known, ``log1p(actions per post)``.

``raw = log1p(R) + volume + network + amplification``, rounded to ``resolution`` log units
(differences below it are noise), then mapped to 1..100 by the version's stored calibration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from scoring.engine.calibration import Calibration, calibrate
from scoring.engine.graph import pagerank, unique_keys, unique_keys_inverse
from scoring.engine.registry import DAY, LATEST, AlgorithmVersion, get_version
from scoring.engine.styles import STYLES, StyleTraits, style_reason, style_traits
from scoring.engine.types import Interactions, PersonResult, Posts

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class EngineResult:
    """Scores and subscores for every person index, plus what is needed to explain them."""

    version: str
    as_of: float
    calibration: Calibration
    raw: FloatArray
    score: FloatArray
    true_reach: FloatArray
    amplification: FloatArray
    network_score: FloatArray
    style: npt.NDArray[np.int8]
    traits: StyleTraits
    network_contributions: npt.NDArray[np.float32]  # people x networks, sums to raw per person
    networks: npt.NDArray[np.int8]  # network code of each contributions column
    components: dict[
        str, FloatArray
    ]  # named raw components (reach, volume, network, amplification)
    last_received: FloatArray  # unix time of the latest action received in the window (or -inf)
    actions_received: FloatArray  # actions received in the window (undiscounted)
    influence: sp.csr_array  # actor x receiver weighted influence (after anti-gaming)
    post_author: IntArray
    post_actions: FloatArray
    post_new_reactors: dict[int, int] = field(default_factory=dict)

    @property
    def n_people(self) -> int:
        """Number of person indices scored."""
        return int(self.raw.shape[0])

    def style_name(self, person: int) -> str:
        """One of the 16 style names for ``person``."""
        return STYLES[int(self.style[person])]

    def style_reason(self, person: int) -> str:
        """Why ``person`` got their style, in words."""
        return style_reason(self.traits, person)

    def top_influencees(self, person: int, k: int = 5) -> list[tuple[int, float]]:
        """The k people whose actions on ``person`` weigh most (people ``person`` influences)."""
        col = self.influence[:, [person]].tocoo()
        return _top_pairs(col.row, col.data, k)

    def top_influencers(self, person: int, k: int = 5) -> list[tuple[int, float]]:
        """The k people ``person`` acts on most (people who influence ``person``)."""
        row = self.influence[[person], :].tocoo()
        return _top_pairs(row.col, row.data, k)

    def moments(self, person: int, k: int = 5) -> list[tuple[int, float]]:
        """The k posts by ``person`` that drove the most action: (post index, actions)."""
        mine = np.flatnonzero(self.post_author == person)
        return _top_pairs(mine, self.post_actions[mine], k)

    def person(self, index: int) -> PersonResult:
        """Everything about one person as a :class:`PersonResult`."""
        contrib = {
            int(net): float(self.network_contributions[index, c])
            for c, net in enumerate(self.networks)
            if self.network_contributions[index, c] != 0
        }
        return PersonResult(
            person=index,
            raw=float(self.raw[index]),
            score=float(self.score[index]),
            true_reach=float(self.true_reach[index]),
            amplification=float(self.amplification[index]),
            network_score=float(self.network_score[index]),
            style=self.style_name(index),
            style_reason=self.style_reason(index),
            network_contributions=contrib,
            components={k: float(v[index]) for k, v in self.components.items()},
        )


def _top_pairs(
    idx: npt.NDArray[np.integer], val: npt.NDArray[np.floating], k: int
) -> list[tuple[int, float]]:
    order = np.lexsort((idx, -val))[:k]
    return [(int(idx[o]), float(val[o])) for o in order if val[o] > 0]


@dataclass(frozen=True)
class _Window:
    actor: IntArray
    receiver: IntArray
    time: FloatArray
    post: IntArray
    network: npt.NDArray[np.int8]
    kind: npt.NDArray[np.int8]


def _window(inter: Interactions, as_of: float, algo: AlgorithmVersion) -> _Window:
    start = as_of - algo.window_days * DAY
    t = inter.time
    m = (t < as_of) & (t >= start)
    return _Window(
        actor=inter.actor[m].astype(np.int64),
        receiver=inter.receiver[m].astype(np.int64),
        time=t[m],
        post=inter.post[m],
        network=inter.network[m],
        kind=inter.kind[m],
    )


def _quantize(x: FloatArray, q: float) -> FloatArray:
    return np.round(x / q) * q if q > 0 else x


def raw_components(
    inter: Interactions,
    posts: Posts | None,
    *,
    as_of: float,
    algo: AlgorithmVersion,
) -> tuple[dict[str, FloatArray], dict[str, object]]:
    """The named raw components per person, plus intermediate arrays for explanations."""
    n = inter.n_people
    w = _window(inter, as_of, algo)
    # self-reactions are not influence
    other = w.actor != w.receiver
    a, r, t = w.actor[other], w.receiver[other], w.time[other]
    age = np.maximum(as_of - t, 0.0)
    decay = np.exp2(-age / (algo.half_life_days * DAY))

    # distinct pairs; each actor's number of distinct targets (selectivity)
    pair_key = a * n + r
    pairs, pair_of_row = unique_keys_inverse(pair_key)
    p_actor = pairs // n
    p_recv = pairs % n
    dout = np.bincount(p_actor, minlength=n).astype(np.float64)
    selectivity = np.minimum(1.0, np.sqrt(algo.selective_limit / np.maximum(dout, 1.0)))

    # (pair, bucket) distinct: sustained reach, decayed by bucket age
    n_buckets = math.ceil(algo.window_days * DAY / algo.bucket_seconds) + 1
    bucket = np.minimum((age // algo.bucket_seconds).astype(np.int64), n_buckets - 1)
    pb = unique_keys(pair_of_row * n_buckets + bucket)
    pb_pair = pb // n_buckets
    pb_decay = np.exp2(-(pb % n_buckets) * algo.bucket_seconds / (algo.half_life_days * DAY))
    pair_reach = np.bincount(pb_pair, weights=pb_decay, minlength=pairs.shape[0])
    pair_volume = np.bincount(pair_of_row, weights=decay, minlength=pairs.shape[0])
    # the newest bucket of each pair carries its latest decay (pb is sorted by pair, then age)
    first_of_pair = np.ones(pb.shape[0], dtype=bool)
    first_of_pair[1:] = pb_pair[1:] != pb_pair[:-1]
    pair_latest = np.zeros(pairs.shape[0])
    pair_latest[pb_pair[first_of_pair]] = pb_decay[first_of_pair]

    # back-scratching: mutual pairs where the reactor is at least as reached as the receiver
    reach0 = np.bincount(p_recv, weights=selectivity[p_actor] * pair_reach, minlength=n)
    reverse = p_recv * n + p_actor
    pos = np.searchsorted(pairs, reverse)
    pos = np.minimum(pos, max(pairs.shape[0] - 1, 0))
    mutual = (pairs.shape[0] > 0) & (pairs[pos] == reverse) if pairs.shape[0] else pos.astype(bool)
    peer = reach0[p_actor] >= reach0[p_recv]
    # only receivers whose reactors are mostly mutual partners (rings, back-scratching circles)
    din = np.bincount(p_recv, minlength=n).astype(np.float64)
    mutual_share = np.bincount(p_recv, weights=mutual.astype(np.float64), minlength=n) / np.maximum(
        din, 1.0
    )
    n_mutual = np.bincount(p_recv, weights=mutual.astype(np.float64), minlength=n)
    closed = (mutual_share[p_recv] >= algo.ring_share) & (n_mutual[p_recv] >= algo.ring_min)
    discounted = mutual & peer & closed
    pair_factor = selectivity[p_actor] * np.where(discounted, algo.reciprocal_weight, 1.0)

    reach = np.bincount(p_recv, weights=pair_factor * pair_reach, minlength=n)
    volume = np.bincount(p_recv, weights=pair_factor * pair_volume, minlength=n)
    true_reach = np.bincount(p_recv, weights=pair_factor * pair_latest, minlength=n)

    comp_reach = np.log1p(reach)
    comp_volume = algo.volume_weight * np.log1p(volume) * (reach >= algo.volume_min_reach)

    # network: weighted PageRank on the discounted graph; only above-average rank adds
    influence = sp.csr_array(
        (pair_factor * pair_reach, (p_actor, p_recv)), shape=(n, n), dtype=np.float64
    )
    active = np.zeros(n, dtype=bool)
    active[a] = True
    active[r] = True
    n_active = max(int(active.sum()), 1)
    if pairs.shape[0]:
        pr = pagerank(influence, damping=algo.pagerank_damping, tol=algo.pagerank_tol)
        rel = np.log(np.maximum(pr * n_active, 1e-300))
    else:
        rel = np.zeros(n)
    comp_network = algo.network_weight * np.maximum(rel, 0.0) * (reach > 0)

    # amplification: actions per post (only when posts are known)
    per_post = np.zeros(n)
    post_author = np.zeros(0, dtype=np.int64)
    post_actions = np.zeros(0)
    if posts is not None and len(posts):
        pm = (posts.time < as_of) & (posts.time >= as_of - algo.window_days * DAY)
        n_posts = np.bincount(posts.author[pm].astype(np.int64), minlength=n).astype(np.float64)
        post_author = posts.author.astype(np.int64)
        known = (w.post >= 0) & (w.post < len(posts))
        post_actions = np.bincount(w.post[known], minlength=len(posts)).astype(np.float64)
        received = np.bincount(r, minlength=n).astype(np.float64)
        per_post = np.where(n_posts > 0, received / np.maximum(n_posts, 1.0), received)
        comp_amp = algo.amplification_weight * np.log1p(per_post) * (reach > 0)
    else:
        received = np.bincount(r, minlength=n).astype(np.float64)
        comp_amp = np.zeros(n)
        # without a post table, moments come from the post ids on interactions
        known = w.post >= 0
        if known.any():
            n_post_ids = int(w.post[known].max()) + 1
            post_actions = np.bincount(w.post[known], minlength=n_post_ids).astype(np.float64)
            post_author = np.full(n_post_ids, -1, dtype=np.int64)
            post_author[w.post[known]] = w.receiver[known]

    last_received = np.full(n, -np.inf)
    if r.size:
        order = np.lexsort((t, r))
        last_row = np.ones(order.shape[0], dtype=bool)
        last_row[:-1] = r[order][1:] != r[order][:-1]
        last_received[r[order][last_row]] = t[order][last_row]
    components = {
        "reach": comp_reach,
        "volume": comp_volume,
        "network": comp_network,
        "amplification": comp_amp,
    }
    extra: dict[str, object] = {
        "true_reach": true_reach,
        "per_post": per_post,
        "pagerank_rel": rel,
        "influence": influence,
        "last_received": last_received,
        "received": received,
        "post_author": post_author,
        "post_actions": post_actions,
        "window": w,
    }
    return components, extra


def score_window(
    interactions: Interactions,
    posts: Posts | None = None,
    *,
    as_of: float,
    version: AlgorithmVersion | str = LATEST,
    calibration: Calibration | None = None,
) -> EngineResult:
    """Score every person from the window of interactions before ``as_of``."""
    algo = get_version(version)
    comps, extra = raw_components(interactions, posts, as_of=as_of, algo=algo)
    total = comps["reach"] + comps["volume"] + comps["network"] + comps["amplification"]
    raw = _quantize(total, algo.resolution)
    cal = calibration if calibration is not None else calibrate(raw, version=algo.name)
    if cal.version != algo.name:
        raise ValueError(f"calibration is for {cal.version!r}, not {algo.name!r}")
    score = cal.apply(raw)

    per_post = extra["per_post"]
    assert isinstance(per_post, np.ndarray)
    amplification = np.clip(100.0 - 99.0 * np.exp(-0.2 * np.log1p(per_post)), 1.0, 100.0)
    rel = extra["pagerank_rel"]
    assert isinstance(rel, np.ndarray)
    network_score = np.clip(100.0 - 99.0 * np.exp(-0.21 * np.maximum(rel + 1.0, 0.0)), 1.0, 100.0)

    w = extra["window"]
    assert isinstance(w, _Window)
    networks, contributions = _network_contributions(w, raw, interactions.n_people)
    traits = style_traits(w.actor, w.kind, w.time, w.receiver, posts, as_of, interactions.n_people)
    influence = extra["influence"]
    assert isinstance(influence, sp.csr_array)
    return EngineResult(
        version=algo.name,
        as_of=as_of,
        calibration=cal,
        raw=raw,
        score=score,
        true_reach=np.asarray(extra["true_reach"], dtype=np.float64),
        amplification=amplification,
        network_score=network_score,
        style=traits.code,
        traits=traits,
        network_contributions=contributions,
        networks=networks,
        components=comps,
        last_received=np.asarray(extra["last_received"], dtype=np.float64),
        actions_received=np.asarray(extra["received"], dtype=np.float64),
        influence=influence,
        post_author=np.asarray(extra["post_author"], dtype=np.int64),
        post_actions=np.asarray(extra["post_actions"], dtype=np.float64),
    )


def _network_contributions(
    w: _Window, raw: FloatArray, n: int
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float32]]:
    """Split each person's raw over networks in proportion to the actions received there."""
    other = w.actor != w.receiver
    nets = (
        np.flatnonzero(np.bincount(w.network[other].astype(np.int64) + 128, minlength=256)) - 128
        if other.any()
        else np.zeros(1, dtype=np.int64)
    )
    col = np.searchsorted(nets, w.network[other])
    flat = np.bincount(w.receiver[other] * nets.shape[0] + col, minlength=n * nets.shape[0])
    counts = flat.reshape(n, nets.shape[0]).astype(np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    return nets.astype(np.int8), (share * raw[:, None]).astype(np.float32)


@dataclass(frozen=True)
class PersonScores:
    """Scores for persons that combine several accounts (index = group index)."""

    raw: FloatArray
    score: FloatArray
    best_account: IntArray


def combine_persons(result: EngineResult, groups: list[list[int]]) -> PersonScores:
    """Score people with several accounts: reach adds up, never lower than the best account."""
    algo = get_version(result.version)
    raws = np.zeros(len(groups))
    best = np.zeros(len(groups), dtype=np.int64)
    reach_comp = result.components["reach"]
    for g, accounts in enumerate(groups):
        idx = np.asarray(accounts, dtype=np.int64)
        if idx.size == 0:
            best[g] = -1
            continue
        best[g] = int(idx[np.argmax(result.raw[idx])])
        # reach is additive across accounts (log1p undone, summed, re-applied)
        total_reach = float(np.expm1(reach_comp[idx]).sum())
        others = max(
            float(
                result.components["volume"][i]
                + result.components["network"][i]
                + result.components["amplification"][i]
            )
            for i in idx.tolist()
        )
        combined = float(
            _quantize(np.array([math.log1p(total_reach) + others]), algo.resolution)[0]
        )
        raws[g] = max(combined, float(result.raw[best[g]]))
    return PersonScores(raw=raws, score=result.calibration.apply(raws), best_account=best)
