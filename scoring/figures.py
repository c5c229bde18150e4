"""Per-person figures the read models lack, computed in bulk from the scoring run's arrays.

Achievements need counts the daily score does not keep (unique mentioners, distinct sharers of one
post, counts beyond the top five) and notifications need where a person's reactions come from and
who newly started acting on them. All of it falls out of the window the run already holds in
memory: a few numpy group-bys over the interaction columns, once per run, for every linked user,
instead of one store query per person. Rows go to `PersonFigures` inside the run's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from networks.models import PostKind
from scoring import write
from scoring.collect import Window
from scoring.engine.score import EngineResult
from scoring.engine.types import Kind
from scoring.models import PersonFigures, ScoringRun

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

SHARE_KINDS = (int(Kind.SHARE), int(Kind.QUOTE))
POST_KINDS = (PostKind.ORIGINAL.value, PostKind.RESHARE.value, PostKind.REPLY.value)
DAY_S = 86400.0


@dataclass(frozen=True)
class Figures:
    """Columns aligned with `user_ids`: one entry per linked user in the window."""

    user_ids: IntArray
    score: FloatArray
    actions_received: IntArray
    mentioners: IntArray
    mentioners_one_day: IntArray
    top_post_sharers: IntArray
    posts_shared: IntArray
    top_moment_reactions: IntArray
    top_network: list[str]
    top_network_share: IntArray
    top_post_kind: list[str]
    top_post_kind_share: IntArray
    top_hour: IntArray  # -1: no reactions
    top_hour_share: IntArray
    top_influencee_id: IntArray  # -1: none
    top_influencer_id: IntArray
    new_high_actor_id: IntArray
    new_high_actor_score: FloatArray  # NaN: none


def compute_figures(window: Window, result: EngineResult) -> Figures:
    """Every linked user's figures from the window's interactions and the engine's result."""
    n = window.interactions.n_people
    user_ids = np.asarray(sorted(window.groups), dtype=np.int64)
    n_users = user_ids.shape[0]
    owner = np.full(n, -1, dtype=np.int64)
    for pos, uid in enumerate(user_ids.tolist()):
        owner[window.groups[uid]] = pos

    score = np.zeros(n_users, dtype=np.float64)
    member = owner >= 0
    np.maximum.at(score, owner[member], result.score[:n][member].astype(np.float64))

    ia = window.interactions
    actor = ia.actor.astype(np.int64)
    recv_owner = owner[ia.receiver.astype(np.int64)]
    # Reactions from someone else on one of the user's accounts (their own accounts do not count).
    mask = (recv_owner >= 0) & (owner[actor] != recv_owner)
    o, a, kind, t = recv_owner[mask], actor[mask], ia.kind[mask], ia.time[mask]
    post, net = ia.post[mask], ia.network[mask].astype(np.int64)

    actions = np.bincount(o, minlength=n_users).astype(np.int64)

    mention = kind == int(Kind.MENTION)
    mentioners = _distinct_count(o[mention], a[mention], n, n_users)
    day_index = np.floor((t[mention] - float(window.start.timestamp())) / DAY_S).astype(np.int64)
    days = int(day_index.max()) + 1 if day_index.size else 1
    mentioners_one_day = _most_in_one_day(o[mention], day_index, a[mention], days, n, n_users)

    post_author_owner = owner[window.posts.author.astype(np.int64)]
    n_posts = window.post_ids.shape[0]
    shared = np.isin(kind, SHARE_KINDS) & (post >= 0)
    sharers = _distinct_count(post[shared], a[shared], n, n_posts)
    on_post = post >= 0
    reactions = np.bincount(post[on_post], minlength=n_posts).astype(np.int64)
    mine = post_author_owner >= 0
    top_post_sharers = _max_by(post_author_owner[mine], sharers[mine], n_users)
    posts_shared = np.bincount(post_author_owner[mine & (sharers > 0)], minlength=n_users)
    top_moment = _max_by(post_author_owner[mine], reactions[mine], n_users)

    networks = list(window.networks)
    net_best, net_share = _top_category(o, net, len(networks), n_users)
    hour = np.floor((t % DAY_S) / 3600.0).astype(np.int64)
    hour_best, hour_share = _top_category(o, hour, 24, n_users)
    post_kind = np.zeros(n_posts, dtype=np.int64)
    if window.posts.is_share is not None:
        post_kind[window.posts.is_share] = 1
    if window.posts.is_reply is not None:
        post_kind[window.posts.is_reply] = 2
    kind_best, kind_share = _top_category(o[on_post], post_kind[post[on_post]], 3, n_users)

    influencee, influencer = _top_partners(result, owner, window.account_ids, n_users)
    new_id, new_score = _new_high_actors(
        o, a, t, result, score, window.account_ids, window.end.timestamp() - DAY_S, n_users
    )
    return Figures(
        user_ids=user_ids,
        score=score,
        actions_received=actions,
        mentioners=mentioners,
        mentioners_one_day=mentioners_one_day,
        top_post_sharers=top_post_sharers,
        posts_shared=posts_shared.astype(np.int64),
        top_moment_reactions=top_moment,
        top_network=[networks[i] if i >= 0 else "" for i in net_best.tolist()],
        top_network_share=net_share,
        top_post_kind=[POST_KINDS[i] if i >= 0 else "" for i in kind_best.tolist()],
        top_post_kind_share=kind_share,
        top_hour=hour_best,
        top_hour_share=hour_share,
        top_influencee_id=influencee,
        top_influencer_id=influencer,
        new_high_actor_id=new_id,
        new_high_actor_score=new_score,
    )


def write_figures(*, run: ScoringRun, window: Window, result: EngineResult) -> int:
    """Compute and store every linked user's figures for `run`; return the rows written."""
    figures = compute_figures(window, result)
    names = [f.name for f in fields(Figures) if f.name != "user_ids"]
    columns = ("run_id", "day", "user_id", *names)
    values = [getattr(figures, name) for name in names]
    rows = (
        (
            run.pk,
            run.day,
            uid,
            *(_db_value(name, col[i]) for name, col in zip(names, values, strict=True)),
        )
        for i, uid in enumerate(figures.user_ids.tolist())
    )
    write.insert(PersonFigures, columns, rows, with_ids=False)
    return int(figures.user_ids.shape[0])


def _db_value(name: str, value: Any) -> Any:
    """numpy scalars as Python values; -1 / NaN sentinels as NULL."""
    if isinstance(value, str):
        return value
    if isinstance(value, np.floating):
        return None if np.isnan(value) else round(float(value), 4)
    number = int(value)
    if name in {"top_hour", "top_influencee_id", "top_influencer_id", "new_high_actor_id"}:
        return None if number < 0 else number
    return number


def _distinct_count(key: IntArray, other: IntArray, n_other: int, n_keys: int) -> IntArray:
    """Per key (0..n_keys-1): how many distinct `other` values it has."""
    if key.size == 0:
        return np.zeros(n_keys, dtype=np.int64)
    pairs = np.unique(key.astype(np.int64) * max(n_other, 1) + other.astype(np.int64))
    return np.bincount(pairs // max(n_other, 1), minlength=n_keys).astype(np.int64)


def _most_in_one_day(
    key: IntArray, day: IntArray, other: IntArray, days: int, n_other: int, n_keys: int
) -> IntArray:
    """Per key: the most distinct `other` values it had on any one day (sparse: no key x day)."""
    if key.size == 0:
        return np.zeros(n_keys, dtype=np.int64)
    key_day = key * days + day
    pairs = np.unique(key_day * max(n_other, 1) + other)
    per_key_day, counts = np.unique(pairs // max(n_other, 1), return_counts=True)
    return _max_by(per_key_day // days, counts.astype(np.int64), n_keys)


def _max_by(key: IntArray, values: IntArray, n_keys: int) -> IntArray:
    """Per key: the largest of its values (0 when it has none)."""
    out = np.zeros(n_keys, dtype=np.int64)
    if key.size:
        np.maximum.at(out, key, values.astype(np.int64))
    return out


def _top_category(
    key: IntArray, category: IntArray, n_categories: int, n_keys: int
) -> tuple[IntArray, IntArray]:
    """Per key: its most frequent category (-1 when none) and that category's share in percent."""
    counts = np.bincount(key * n_categories + category, minlength=n_keys * n_categories)
    table = counts.reshape(n_keys, n_categories)
    total = table.sum(axis=1)
    best = table.argmax(axis=1).astype(np.int64) if n_keys else np.zeros(0, dtype=np.int64)
    top = table[np.arange(n_keys), best] if n_keys else np.zeros(0, dtype=np.int64)
    share = np.zeros(n_keys, dtype=np.int64)
    has = total > 0
    share[has] = np.rint(100.0 * top[has] / total[has]).astype(np.int64)
    best[~has] = -1
    return best, share


def _argmax_by(key: IntArray, other: IntArray, weight: FloatArray, n_keys: int) -> IntArray:
    """Per key: the `other` with the largest summed weight (ties: smallest other), else -1."""
    out = np.full(n_keys, -1, dtype=np.int64)
    if key.size == 0:
        return out
    pairs, inverse = np.unique(np.stack([key, other]), axis=1, return_inverse=True)
    sums = np.bincount(inverse.ravel(), weights=weight, minlength=pairs.shape[1])
    order = np.lexsort((pairs[1], -sums, pairs[0]))
    first = order[np.r_[True, pairs[0][order][1:] != pairs[0][order][:-1]]]
    out[pairs[0][first]] = pairs[1][first]
    return out


def _top_partners(
    result: EngineResult, owner: IntArray, account_ids: IntArray, n_users: int
) -> tuple[IntArray, IntArray]:
    """Per user: the account acting on them most (influencee) and the one they act on most."""
    coo = result.influence.tocoo()
    n = owner.shape[0]
    actor, recv = coo.row.astype(np.int64), coo.col.astype(np.int64)
    inside = (actor < n) & (recv < n) & (coo.data > 0)
    actor, recv, weight = actor[inside], recv[inside], coo.data[inside].astype(np.float64)
    ro, ao = owner[recv], owner[actor]
    on_them = (ro >= 0) & (ao != ro)
    by_them = (ao >= 0) & (ao != ro)
    influencee = _argmax_by(ro[on_them], actor[on_them], weight[on_them], n_users)
    influencer = _argmax_by(ao[by_them], recv[by_them], weight[by_them], n_users)
    return _to_ids(influencee, account_ids), _to_ids(influencer, account_ids)


def _to_ids(dense: IntArray, account_ids: IntArray) -> IntArray:
    out = np.full(dense.shape[0], -1, dtype=np.int64)
    has = dense >= 0
    out[has] = account_ids[dense[has]]
    return out


def _new_high_actors(
    o: IntArray,
    a: IntArray,
    t: FloatArray,
    result: EngineResult,
    user_score: FloatArray,
    account_ids: IntArray,
    day_start: float,
    n_users: int,
) -> tuple[IntArray, FloatArray]:
    """Per user: the highest-scoring account that first acted on them on the day (and outscores
    them), else -1 / NaN."""
    ids = np.full(n_users, -1, dtype=np.int64)
    scores = np.full(n_users, np.nan)
    if o.size == 0:
        return ids, scores
    pairs, inverse = np.unique(np.stack([o, a]), axis=1, return_inverse=True)
    first = np.full(pairs.shape[1], np.inf)
    np.minimum.at(first, inverse.ravel(), t)
    actor_score = result.score[pairs[1]].astype(np.float64)
    new = (first >= day_start) & (actor_score > user_score[pairs[0]])
    if not new.any():
        return ids, scores
    uo, ua, us = pairs[0][new], pairs[1][new], actor_score[new]
    order = np.lexsort((ua, -us, uo))
    head = order[np.r_[True, uo[order][1:] != uo[order][:-1]]]
    ids[uo[head]] = account_ids[ua[head]]
    scores[uo[head]] = us[head]
    return ids, scores
