"""The Klout score for one window: reach, amplification, network, anti-gaming, calibration.

Model (version ``klout-2026.4``; ``klout-2026.3`` discounts more mutual pairs (see
back-scratching), ``klout-2026.2`` also lacks "hot" and the credit below, and ``klout-2026.1``
also the network term), per receiver ``i`` over the rolling window before ``as_of``:

- **Reach** ``R_i``: every reactor ``j`` contributes once per time bucket (6 h) in which it acted
  on ``i``, decayed by age (half-life 30 days), so sustained reach beats a single burst and a burst
  fades. Self-reactions count nothing.
- **Anti-gaming weights** on each reactor: selectivity (a reactor acting on more than
  ``selective_limit`` people is scaled by ``sqrt(limit / distinct targets)``; bots that react to
  everything and receive nothing barely count) and back-scratching (a mutual pair between peers,
  the reactor at least as reached as the receiver, counts ``reciprocal_weight``; rings of accounts
  mostly reacting to each other are made of such pairs). Only receivers in a *closed circle* are
  checked: at least ``ring_min`` mutual partners making at least ``ring_share`` of their reactors.
  From ``klout-2026.4`` the reactor must be in a closed circle too: every member of a sock-puppet
  ring is, whatever the ring's shape (a clique, or two groups scratching each other), while a
  genuine conversation partner also hears from people it does not answer, so talking back and
  forth (messaging, reply threads) is not discounted. (On CollegeMsg, a messaging network, the
  one-sided rule discounted 714 of 10,544 pairs at the median cut and cost 0.025 rho_recv; the
  two-sided rule keeps 233 of them and leaves the Higgs sets, where no receiver is closed,
  unchanged.) Reacting to people below you is never discounted, so engaging down never costs
  you.
- **Volume**: beyond distinct reach, decayed action volume adds ``volume_weight * log1p(volume)``
  for accounts with at least ``volume_min_reach`` reach.
- **Network**: each reactor's weight is multiplied by its quality ``1 + network_weight *
  h / (h + network_scale)``, ``h = log1p(the reactor's own weighted reach)``, propagated twice over
  the weighted actor -> receiver graph (a truncated, saturating PageRank: who reacts matters, a
  selective reactor who is itself acted upon counts most, yet no famous reactor dominates). The
  component is ``log1p(quality-weighted reach) - log1p(R)`` and the Network subscore maps the
  mean quality of one's reactors to 1..100. (Full PageRank as a raw term cost rho_recv on the
  development sets; the evaluation keeps it as a baseline.)
- **Amplification**: when posts are known, ``log1p(actions per post)``.

- **Hot** (``klout-2026.3``): ``hot_weight * log1p(H)`` for accounts with at least
  ``volume_min_reach`` reach, ``H`` the actions received weighted like reach and decayed with a
  3-hour half-life (ages at the middle of 1-hour buckets): who is acted on right now is who will
  be acted on next. Back-scratching peers add neither volume beyond once nor heat.

``raw = log1p(R) + volume + network + amplification + hot``, rounded to ``resolution`` log units
(differences below it are noise), then mapped to 1..100 by the version's stored calibration.
From ``klout-2026.3`` being acted on at all is evidence: any weighted reach puts an account at
least one resolution step above nothing, and an account acted on only by itself (self-retweets,
self-mentions: never influence) sits at ``self_credit`` of a step, above the silent and below
anyone with a single real reactor.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from scoring.engine.calibration import Calibration, calibrate
from scoring.engine.registry import DAY, LATEST, Algorithm, get_version
from scoring.engine.styles import (
    N_WEEKS,
    PARTICIPATING_KINDS,
    SHARING_KINDS,
    STYLES,
    WEEK,
    Activity,
    StyleTraits,
    style_reason,
    style_traits,
)
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


# rows are processed in chunks so no full-length temporary beyond the one sort key is allocated
_CHUNK = 1 << 20
# sort key of rows that are not counted: above every real key (at most 63 bits)
_UNCOUNTED = np.iinfo(np.int64).max


@dataclass
class _Rows:
    """Everything the engine needs from the rows, gathered in one chunked pass."""

    keys: IntArray  # sorted keys of counted rows: actor | receiver | fine age bucket, bit-packed
    n_buckets: int  # reach buckets (bucket_seconds)
    fine_per_bucket: int  # fine buckets (hot_bucket_seconds) per reach bucket; 1 without "hot"
    person_bits: int
    bucket_bits: int
    received: FloatArray  # counted actions per receiver (self-reactions excluded)
    last_received: FloatArray
    per_network: npt.NDArray[np.int64]  # people x networks counted actions
    networks: npt.NDArray[np.int8]
    activity: Activity
    self_acted: npt.NDArray[np.bool_]  # acted on oneself in the window (style breadth)
    post_ids: IntArray  # post id of every counted row that names one
    post_receivers: npt.NDArray[np.int32]


def _scan_rows(inter: Interactions, as_of: float, algo: Algorithm) -> _Rows:
    n = inter.n_people
    m = len(inter)
    start = as_of - algo.window_days * DAY
    n_buckets = math.ceil(algo.window_days * DAY / algo.bucket_seconds) + 1
    # keys carry fine age buckets when "hot" needs them; reach buckets are fine // ratio
    ratio = _fine_per_bucket(algo)
    fine_seconds = algo.bucket_seconds / ratio
    n_fine = (n_buckets - 1) * ratio + 1
    # bit-packed keys sort like (actor, receiver, bucket) and unpack with shifts, not divisions
    person_bits = max(int(n - 1).bit_length(), 1)
    bucket_bits = max(int(n_fine - 1).bit_length(), 1)
    if 2 * person_bits + bucket_bits > 63:
        raise ValueError(f"too many people ({n:,}) for 64-bit pair keys")
    # network codes: int8 viewed as uint8 gives 256 dense bins
    seen_net = np.zeros(256, dtype=bool)
    for s in range(0, m, _CHUNK):
        seen_net[inter.network[s : s + _CHUNK].view(np.uint8)] = True
    net_codes = np.flatnonzero(seen_net)
    n_nets = max(int(net_codes.shape[0]), 1)
    net_col = np.zeros(256, dtype=np.int64)
    net_col[net_codes] = np.arange(net_codes.shape[0])

    keys = np.empty(m, dtype=np.int64)
    k = keys[:0]
    n_counted = 0
    received_net = np.zeros(n * n_nets, dtype=np.int64)
    last = np.full(n, -np.inf)
    acts = np.zeros(n)
    shares = np.zeros(n)
    talk = np.zeros(n)
    self_acted = np.zeros(n, dtype=bool)
    week_flags = np.zeros((n, N_WEEKS), dtype=bool)
    post_ids: list[IntArray] = []
    post_receivers: list[npt.NDArray[np.int32]] = []
    is_sharing = np.zeros(256, dtype=bool)
    is_sharing[list(SHARING_KINDS)] = True
    is_talk = np.zeros(256, dtype=bool)
    is_talk[list(PARTICIPATING_KINDS)] = True
    for s in range(0, m, _CHUNK):
        e = min(s + _CHUNK, m)
        a = inter.actor[s:e]
        r = inter.receiver[s:e]
        t = inter.time[s:e]
        in_window = (t < as_of) & (t >= start)
        counted = in_window & (a != r)
        age = as_of - t
        k = keys[s:e]
        k[:] = a
        k <<= person_bits
        k |= r
        k <<= bucket_bits
        k |= np.clip(age // fine_seconds, 0, n_fine - 1).astype(np.int64)
        k[~counted] = _UNCOUNTED
        n_counted += int(np.count_nonzero(counted))
        rc = r[counted]
        np.add.at(
            received_net,
            rc.astype(np.int64) * n_nets + net_col[inter.network[s:e][counted].view(np.uint8)],
            1,
        )
        np.maximum.at(last, rc, t[counted])
        # one's own activity (styles) counts every action in the window, self-reactions too
        aw = a[in_window]
        kw = inter.kind[s:e][in_window]
        np.add.at(acts, aw, 1.0)
        np.add.at(shares, aw[is_sharing[kw.view(np.uint8)]], 1.0)
        np.add.at(talk, aw[is_talk[kw.view(np.uint8)]], 1.0)
        self_acted[a[in_window & (a == r)]] = True
        week_flags[aw, np.minimum(age[in_window] // WEEK, N_WEEKS - 1).astype(np.int64)] = True
        pc = inter.post[s:e][counted]
        named = pc >= 0
        if named.any():
            post_ids.append(pc[named])
            post_receivers.append(rc[named])
    del k
    keys.sort()
    # uncounted rows sorted last: cut them off in place (the array keeps owning its memory, so
    # _pairs can hand it back to the allocator as it goes)
    keys.resize(n_counted, refcheck=False)
    per_network = received_net.reshape(n, n_nets)[:, : net_codes.shape[0]]
    # only networks with counted actions get a column, in signed code order
    used = np.flatnonzero(per_network.any(axis=0))
    signed = net_codes[used].astype(np.uint8).view(np.int8)
    order = used[np.argsort(signed, kind="stable")]
    per_network, net_codes = per_network[:, order], net_codes[order]
    return _Rows(
        keys=keys,
        n_buckets=n_buckets,
        fine_per_bucket=ratio,
        person_bits=person_bits,
        bucket_bits=bucket_bits,
        received=per_network.sum(axis=1, dtype=np.float64),
        last_received=last,
        per_network=per_network,
        networks=net_codes.astype(np.uint8).view(np.int8),
        activity=Activity(
            acts=acts,
            shares=shares,
            talk=talk,
            distinct_targets=np.zeros(n),  # filled from the distinct pairs
            week_flags=week_flags,
        ),
        self_acted=self_acted,
        post_ids=np.concatenate(post_ids) if post_ids else np.zeros(0, dtype=np.int64),
        post_receivers=(
            np.concatenate(post_receivers) if post_receivers else np.zeros(0, dtype=np.int32)
        ),
    )


@dataclass
class _Pairs:
    """Distinct (actor, receiver) pairs, sorted by actor then receiver, with decayed counts."""

    actor: npt.NDArray[np.int32]
    receiver: npt.NDArray[np.int32]
    reach: FloatArray  # distinct decayed time buckets
    volume: npt.NDArray[np.float32]  # decayed actions
    latest: npt.NDArray[np.float32]  # decay of the newest bucket
    hot: npt.NDArray[np.float32]  # actions decayed with the "hot" half-life (empty without it)

    def keys(self, n: int, where: npt.NDArray[np.bool_] | None = None) -> IntArray:
        """The sorted pair keys ``actor * n + receiver`` (of the pairs ``where`` is true)."""
        actor = self.actor if where is None else self.actor[where]
        key = actor.astype(np.int64)
        del actor
        key *= n
        key += self.receiver if where is None else self.receiver[where]
        return key


def _pairs(rows: _Rows, n: int, algo: Algorithm) -> _Pairs:
    """Run-length the sorted keys into (pair, bucket) and then pair totals; frees the keys.

    The keys are walked from the end in chunks that start on a pair boundary: every per-pair sum
    adds the same numbers in the same order as one pass would (bit for bit), temporaries stay
    chunk-sized, and the consumed tail of the keys goes back to the allocator as the pairs grow.
    """
    keys, bb = rows.keys, rows.bucket_bits
    rows.keys = np.zeros(0, dtype=np.int64)
    bucket_decay = np.exp2(
        -np.arange(rows.n_buckets) * algo.bucket_seconds / (algo.half_life_days * DAY)
    )
    # the fields are allocated once at their final size and filled back to front: joining
    # chunk-sized parts would leave the parts' memory fragmented on the heap
    n_pairs = _count_runs(keys, bb)
    out: list[npt.NDArray[np.generic]] = [
        np.empty(n_pairs, dtype=np.int32),
        np.empty(n_pairs, dtype=np.int32),
        np.empty(n_pairs, dtype=np.float64),
        np.empty(n_pairs, dtype=np.float32),
        np.empty(n_pairs, dtype=np.float32),
        np.empty(n_pairs if rows.fine_per_bucket > 1 else 0, dtype=np.float32),
    ]
    e = keys.shape[0]
    end = n_pairs
    while e > 0:
        s = max(e - _CHUNK, 0)
        if s > 0:
            # back to the first key of the pair holding the chunk's first key
            s = int(np.searchsorted(keys[:e], (keys[s] >> bb) << bb, side="left"))
        parts: tuple[npt.NDArray[np.generic], ...] = _pair_chunk(
            keys[s:e], rows, algo, bucket_decay
        )
        k = parts[0].shape[0]
        for column, part in zip(out, parts, strict=True):
            if part.shape[0]:
                column[end - k : end] = part
        del parts
        end -= k
        # _pair_chunk returns copies: no view of the keys is alive here
        keys.resize(s, refcheck=False)
        e = s
    assert end == 0
    return _Pairs(*out)  # type: ignore[arg-type]


def _count_runs(keys: IntArray, shift: int) -> int:
    """Number of distinct ``keys >> shift`` in sorted keys, counted chunk by chunk."""
    total = 0
    previous = -1
    for s in range(0, keys.shape[0], _CHUNK):
        high = keys[s : s + _CHUNK] >> shift
        total += int(np.count_nonzero(high[1:] != high[:-1])) + int(high[0] != previous)
        previous = int(high[-1])
    return total


def _pair_chunk(
    keys: IntArray, rows: _Rows, algo: Algorithm, bucket_decay: FloatArray
) -> tuple[
    npt.NDArray[np.int32],
    npt.NDArray[np.int32],
    FloatArray,
    npt.NDArray[np.float32],
    npt.NDArray[np.float32],
    npt.NDArray[np.float32],
]:
    """The _Pairs fields for sorted keys holding whole pairs only."""
    nb, bb, pb = rows.n_buckets, rows.bucket_bits, rows.person_bits
    starts = np.flatnonzero(_run_flags(keys))
    counts = np.empty(starts.shape[0])
    np.subtract(starts[1:], starts[:-1], out=counts[:-1])
    counts[-1] = keys.shape[0] - starts[-1]
    pair_key = keys[starts]
    del starts
    bucket = (pair_key & ((1 << bb) - 1)).astype(np.int16)
    pair_key >>= bb
    hot = np.zeros(0, dtype=np.float32)
    ratio = rows.fine_per_bucket
    if ratio > 1:
        # "hot" weighs each fine bucket by the decay at its middle, then fine buckets fold into
        # reach buckets (runs of equal (pair, bucket // ratio))
        fine_seconds = algo.bucket_seconds / ratio
        mid_age = (bucket + 0.5) * fine_seconds
        hot_w = counts * np.exp2(-mid_age / algo.hot_half_life_seconds)
        del mid_age
        pair_new = _run_flags(pair_key)
        hot = np.bincount(np.cumsum(pair_new) - 1, weights=hot_w).astype(np.float32)
        del hot_w
        bucket //= ratio
        np.minimum(bucket, nb - 1, out=bucket)
        run_new = pair_new
        run_new[1:] |= bucket[1:] != bucket[:-1]
        group = np.cumsum(run_new) - 1
        counts = np.bincount(group, weights=counts)
        del group
        bucket, pair_key = bucket[run_new], pair_key[run_new]
        del run_new, pair_new
    decay = bucket_decay[bucket]
    del bucket
    new = _run_flags(pair_key)
    pairs = pair_key[new]
    del pair_key
    latest = decay[new].astype(np.float32)  # buckets ascend by age in a pair: first is newest
    group = np.cumsum(new, dtype=np.int64)
    group -= 1
    del new
    n_pairs = pairs.shape[0]
    reach = np.bincount(group, weights=decay, minlength=n_pairs)
    counts *= decay
    del decay
    volume = np.bincount(group, weights=counts, minlength=n_pairs).astype(np.float32)
    del counts, group
    p_recv = (pairs & ((1 << pb) - 1)).astype(np.int32)
    pairs >>= pb
    return pairs.astype(np.int32), p_recv, reach, volume, latest, hot


def _fine_per_bucket(algo: Algorithm) -> int:
    """Fine ("hot") age buckets per reach bucket; 1 when the version has no "hot" term."""
    if algo.hot_weight <= 0:
        return 1
    ratio = round(algo.bucket_seconds / algo.hot_bucket_seconds)
    if ratio < 1 or ratio * algo.hot_bucket_seconds != algo.bucket_seconds:
        raise ValueError("hot_bucket_seconds must divide bucket_seconds")
    return ratio


def _run_flags(sorted_keys: IntArray) -> npt.NDArray[np.bool_]:
    """True at the first element of every run of equal values in a sorted array."""
    new = np.empty(sorted_keys.shape[0], dtype=bool)
    new[0] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=new[1:])
    return new


def _count_by(index: npt.NDArray[np.integer], n: int) -> IntArray:
    """``np.bincount(index, minlength=n)`` in chunks (integer sums: exact in any order)."""
    out = np.zeros(n, dtype=np.int64)
    for s in range(0, index.shape[0], _CHUNK):
        out += np.bincount(index[s : s + _CHUNK], minlength=n)
    return out


def _sum_by(
    index: npt.NDArray[np.integer], n: int, weight: Callable[[slice], FloatArray]
) -> FloatArray:
    """``np.bincount(index, weights=w, minlength=n)`` bit for bit, ``w`` built chunk by chunk.

    ``np.add.at`` adds the same numbers in the same order as bincount does, so chunking changes
    no result, while no full-length weight or index temporary is ever allocated.
    """
    out = np.zeros(n)
    for s in range(0, index.shape[0], _CHUNK):
        part = slice(s, s + _CHUNK)
        np.add.at(out, index[part], weight(part))
    return out


def _quantize(x: FloatArray, q: float) -> FloatArray:
    return np.round(x / q) * q if q > 0 else x


def _back_scratching(p: _Pairs, n: int, selectivity: FloatArray, algo: Algorithm) -> IntArray:
    """Sorted indices of pairs discounted as back-scratching (mutual peers in a closed circle)."""
    din = _count_by(p.receiver, n).astype(np.float64)
    dout = _count_by(p.actor, n).astype(np.float64)
    # a receiver can only be closed if it acts on enough of its reactors: check only those
    need = np.maximum(float(algo.ring_min), algo.ring_share * din)
    candidate = (din >= need) & (dout >= need)
    del need
    sel = np.flatnonzero(candidate[p.receiver])
    if sel.shape[0] == 0:
        return sel
    # a reverse pair starts at a candidate, so only pairs acted by candidates are searched;
    # candidate pairs are looked up in chunks so the per-candidate temporaries stay small
    keys = p.keys(n, candidate[p.actor])
    mutual = np.empty(sel.shape[0], dtype=bool)
    for s in range(0, sel.shape[0], _CHUNK):
        ra = p.actor[sel[s : s + _CHUNK]].astype(np.int64)
        reverse = p.receiver[sel[s : s + _CHUNK]].astype(np.int64)
        reverse *= n
        reverse += ra
        pos = np.minimum(np.searchsorted(keys, reverse), keys.shape[0] - 1)
        np.equal(keys[pos], reverse, out=mutual[s : s + _CHUNK])
    del keys
    # counts of 0/1 flags are exact, so integer bincount equals the float-weighted one
    n_mutual = np.bincount(p.receiver[sel[mutual]], minlength=n).astype(np.float64)
    closed = (n_mutual >= algo.ring_min) & (n_mutual / np.maximum(din, 1.0) >= algo.ring_share)
    reach0 = _sum_by(p.receiver, n, lambda c: selectivity[p.actor[c]] * p.reach[c])
    keep = mutual
    for s in range(0, sel.shape[0], _CHUNK):
        actor = p.actor[sel[s : s + _CHUNK]]
        receiver = p.receiver[sel[s : s + _CHUNK]]
        keep[s : s + _CHUNK] &= closed[receiver] & (reach0[actor] >= reach0[receiver])
        if algo.ring_both_closed:
            # from klout-2026.4 the reactor must sit in a closed circle too: ring members all do,
            # a genuine conversation partner who also hears from others does not
            keep[s : s + _CHUNK] &= closed[actor]
    return sel[keep]


def raw_components(
    inter: Interactions,
    posts: Posts | None,
    *,
    as_of: float,
    algo: Algorithm,
) -> tuple[dict[str, FloatArray], dict[str, object]]:
    """The named raw components per person, plus intermediate arrays for explanations."""
    n = inter.n_people
    rows = _scan_rows(inter, as_of, algo)
    p = _pairs(rows, n, algo)
    rows.keys = np.zeros(0, dtype=np.int64)  # free the sort key

    actor_pairs = _count_by(p.actor, n)
    dout = actor_pairs.astype(np.float64)
    rows.activity = Activity(
        acts=rows.activity.acts,
        shares=rows.activity.shares,
        talk=rows.activity.talk,
        distinct_targets=dout + rows.self_acted,
        week_flags=rows.activity.week_flags,
    )
    selectivity = np.minimum(1.0, np.sqrt(algo.selective_limit / np.maximum(dout, 1.0)))
    scratching = _back_scratching(p, n, selectivity, algo)
    # a back-scratching peer counts once, not once per time bucket: a ring that reacts to itself
    # every day must not turn its own chatter into "sustained reach"
    p.reach[scratching] = p.latest[scratching]
    if algo.scratching_counts_once:
        p.volume[scratching] = p.latest[scratching]
        if p.hot.shape[0]:
            p.hot[scratching] = 0.0

    def factor(c: slice) -> FloatArray:
        # each pair's weight (its actor's selectivity, back-scratching discounted), built per
        # chunk so no full-length copy exists while the per-pair columns are still alive
        f = selectivity[p.actor[c]]
        lo, hi = np.searchsorted(scratching, (c.start, c.stop))
        f[scratching[lo:hi] - c.start] *= algo.reciprocal_weight
        return f

    # each per-pair column is dropped as soon as it is summed
    volume = _sum_by(p.receiver, n, lambda c: factor(c) * p.volume[c])
    p.volume = np.zeros(0, dtype=np.float32)
    hot = _sum_by(p.receiver, n, lambda c: factor(c) * p.hot[c]) if p.hot.shape[0] else np.zeros(n)
    p.hot = np.zeros(0, dtype=np.float32)
    true_reach = _sum_by(p.receiver, n, lambda c: factor(c) * p.latest[c])
    p.latest = np.zeros(0, dtype=np.float32)
    n_pairs = p.actor.shape[0]
    # the weighted reach per pair becomes the influence matrix's data
    pair_factor = np.empty(n_pairs)
    for s in range(0, n_pairs, _CHUNK):
        c = slice(s, s + _CHUNK)
        np.multiply(factor(c), p.reach[c], out=pair_factor[c])
    p.reach = np.zeros(0)
    reach = _sum_by(p.receiver, n, lambda c: pair_factor[c])

    comp_reach = np.log1p(reach)
    established = reach >= algo.volume_min_reach
    comp_volume = algo.volume_weight * np.log1p(volume) * established
    # who is hot right now: the freshest actions predict the next ones (for established accounts,
    # weighted like reach, so rings and bots gain nothing here either)
    comp_hot = algo.hot_weight * np.log1p(hot) * established

    # CSR straight from the sorted pairs: rows are actors, columns receivers
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(actor_pairs, out=indptr[1:])
    del actor_pairs
    influence = sp.csr_array((pair_factor, p.receiver, indptr), shape=(n, n), dtype=np.float64)
    influence.has_sorted_indices = True
    # network: every reactor counts up to (1 + network_weight) times, by a bounded function of
    # its own weighted reach, propagated ``network_rounds`` times (a truncated, saturating
    # PageRank: who reacts matters, yet no single famous reactor can dominate the score)
    weighted = reach
    for _ in range(algo.network_rounds if n_pairs and algo.network_weight > 0 else 0):
        standing = np.log1p(weighted)
        quality = standing / (standing + algo.network_scale)
        quality *= algo.network_weight
        quality += 1.0

        def by_quality(c: slice, q: FloatArray = quality) -> FloatArray:
            return pair_factor[c] * q[p.actor[c]]

        weighted = _sum_by(p.receiver, n, by_quality)
    comp_network = np.log1p(weighted) - comp_reach
    # mean quality of one's reactors, 1 .. 1 + network_weight
    reactor_quality = np.divide(weighted, reach, out=np.ones(n), where=reach > 0)

    # amplification: actions per post (only when posts are known)
    received = rows.received
    per_post = np.zeros(n)
    post_author = np.zeros(0, dtype=np.int64)
    post_actions = np.zeros(0)
    if posts is not None and len(posts):
        pm = (posts.time < as_of) & (posts.time >= as_of - algo.window_days * DAY)
        n_posts = np.bincount(posts.author[pm].astype(np.int64), minlength=n).astype(np.float64)
        post_author = posts.author.astype(np.int64)
        known = rows.post_ids < len(posts)
        post_actions = np.bincount(rows.post_ids[known], minlength=len(posts)).astype(np.float64)
        per_post = np.where(n_posts > 0, received / np.maximum(n_posts, 1.0), received)
        comp_amp = algo.amplification_weight * np.log1p(per_post) * (reach > 0)
    else:
        comp_amp = np.zeros(n)
        # without a post table, moments come from the post ids on interactions
        if rows.post_ids.shape[0]:
            n_post_ids = int(rows.post_ids.max()) + 1
            post_actions = np.bincount(rows.post_ids, minlength=n_post_ids).astype(np.float64)
            post_author = np.full(n_post_ids, -1, dtype=np.int64)
            post_author[rows.post_ids] = rows.post_receivers
    components = {
        "reach": comp_reach,
        "volume": comp_volume,
        "network": comp_network,
        "amplification": comp_amp,
        "hot": comp_hot,
    }
    extra: dict[str, object] = {
        "true_reach": true_reach,
        "per_post": per_post,
        "reactor_quality": reactor_quality,
        "influence": influence,
        "post_author": post_author,
        "post_actions": post_actions,
        "rows": rows,
        "reach_weight": reach,
    }
    return components, extra


def score_window(
    interactions: Interactions,
    posts: Posts | None = None,
    *,
    as_of: float,
    version: Algorithm | str = LATEST,
    calibration: Calibration | None = None,
) -> EngineResult:
    """Score every person from the window of interactions before ``as_of``."""
    algo = get_version(version)
    comps, extra = raw_components(interactions, posts, as_of=as_of, algo=algo)
    total = comps["reach"] + comps["volume"] + comps["network"] + comps["amplification"]
    total += comps["hot"]
    raw = _quantize(total, algo.resolution)
    rows = extra["rows"]
    assert isinstance(rows, _Rows)
    reach_weight = extra["reach_weight"]
    assert isinstance(reach_weight, np.ndarray)
    raw = _credit(raw, reach_weight, rows.self_acted, algo)
    cal = calibration if calibration is not None else calibrate(raw, version=algo.name)
    if cal.version != algo.name:
        raise ValueError(f"calibration is for {cal.version!r}, not {algo.name!r}")
    score = cal.apply(raw)

    per_post = extra["per_post"]
    assert isinstance(per_post, np.ndarray)
    amplification = np.clip(100.0 - 99.0 * np.exp(-0.2 * np.log1p(per_post)), 1.0, 100.0)
    quality = extra["reactor_quality"]
    assert isinstance(quality, np.ndarray)
    network_score = np.clip(
        1.0 + 99.0 * (quality - 1.0) / max(algo.network_weight, 1e-9), 1.0, 100.0
    )

    n = interactions.n_people
    traits = style_traits(rows.activity, posts, as_of, n)
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
        network_contributions=_network_contributions(rows.per_network, raw),
        networks=rows.networks,
        components=comps,
        last_received=rows.last_received,
        actions_received=rows.received,
        influence=influence,
        post_author=np.asarray(extra["post_author"], dtype=np.int64),
        post_actions=np.asarray(extra["post_actions"], dtype=np.float64),
    )


def _credit(
    raw: FloatArray, reach: FloatArray, self_acted: npt.NDArray[np.bool_], algo: Algorithm
) -> FloatArray:
    """Being acted on at all is evidence: any reach is at least one step, self-actions a share."""
    if algo.self_credit <= 0:
        return raw
    step = algo.resolution if algo.resolution > 0 else 0.1
    floor = np.where(reach > 0, step, np.where(self_acted, algo.self_credit * step, 0.0))
    return np.maximum(raw, floor)


def _network_contributions(
    per_network: npt.NDArray[np.int64], raw: FloatArray
) -> npt.NDArray[np.float32]:
    """Split each person's raw over networks in proportion to the actions received there."""
    totals = per_network.sum(axis=1, keepdims=True)
    share = np.divide(per_network, totals, out=np.zeros(per_network.shape), where=totals > 0)
    share *= raw[:, None]
    return share.astype(np.float32)


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
                + result.components["hot"][i]
            )
            for i in idx.tolist()
        )
        combined = float(
            _quantize(np.array([math.log1p(total_reach) + others]), algo.resolution)[0]
        )
        raws[g] = max(combined, float(result.raw[best[g]]))
    return PersonScores(raw=raws, score=result.calibration.apply(raws), best_account=best)
