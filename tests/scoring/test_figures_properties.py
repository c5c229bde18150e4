"""The bulk figures (numpy group-bys) equal counting one person at a time, on random windows."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.collect import Window
from scoring.engine import Interactions, Posts, score_window
from scoring.engine.types import Kind
from scoring.figures import compute_figures

END = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
START = END - dt.timedelta(days=10)
N, N_POSTS = 12, 6


@st.composite
def windows(draw: st.DrawFn) -> tuple[Window, dict[int, list[int]]]:
    n = draw(st.integers(1, 40))
    actor = draw(st.lists(st.integers(0, N - 1), min_size=n, max_size=n))
    receiver = draw(st.lists(st.integers(0, N - 1), min_size=n, max_size=n))
    kind = draw(st.lists(st.sampled_from([0, 2, 3, 5]), min_size=n, max_size=n))
    post = draw(st.lists(st.integers(-1, N_POSTS - 1), min_size=n, max_size=n))
    offsets = draw(st.lists(st.floats(0, 10 * 86400 - 1), min_size=n, max_size=n))
    time = [START.timestamp() + o for o in offsets]
    post_author = draw(st.lists(st.integers(0, N - 1), min_size=N_POSTS, max_size=N_POSTS))
    # The person on a post's reactions is its author (the store keeps them consistent).
    receiver = [post_author[p] if p >= 0 else r for p, r in zip(post, receiver, strict=True)]
    owners = draw(st.lists(st.integers(-1, 3), min_size=N, max_size=N))
    groups: dict[int, list[int]] = defaultdict(list)
    for i, o in enumerate(owners):
        if o >= 0:
            groups[100 + o].append(i)
    inter = Interactions(
        actor=np.asarray(actor, np.int32),
        receiver=np.asarray(receiver, np.int32),
        kind=np.asarray(kind, np.int8),
        time=np.asarray(time, np.float64),
        post=np.asarray(post, np.int64),
        network=np.zeros(n, np.int8),
        n_people=N,
    )
    posts = Posts(
        author=np.asarray(post_author, np.int32),
        time=np.full(N_POSTS, START.timestamp()),
        network=np.zeros(N_POSTS, np.int8),
        is_share=np.zeros(N_POSTS, bool),
        is_reply=np.zeros(N_POSTS, bool),
    )
    window = Window(
        day=END.date() - dt.timedelta(days=1),
        start=START,
        end=END,
        interactions=inter,
        posts=posts,
        account_ids=np.arange(1, N + 1, dtype=np.int64) * 10,
        post_ids=np.arange(1, N_POSTS + 1, dtype=np.int64),
        groups=dict(groups),
        day_counts={},
        yesterday_counts={},
    )
    return window, dict(groups)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(windows())
def test_bulk_figures_equal_counting_each_person(drawn) -> None:
    window, groups = drawn
    result = score_window(window.interactions, window.posts, as_of=window.as_of)
    figures = compute_figures(window, result)
    ia = window.interactions
    rows = list(
        zip(
            ia.actor.tolist(),
            ia.receiver.tolist(),
            ia.kind.tolist(),
            ia.time.tolist(),
            ia.post.tolist(),
            strict=True,
        )
    )
    owner = {i: u for u, members in groups.items() for i in members}
    for pos, uid in enumerate(figures.user_ids.tolist()):
        mine = set(groups[uid])
        theirs = [r for r in rows if r[1] in mine and owner.get(r[0]) != uid]
        mentions = [r for r in theirs if r[2] == Kind.MENTION]
        assert figures.mentioners[pos] == len({r[0] for r in mentions})
        per_day: dict[int, set[int]] = defaultdict(set)
        for r in mentions:
            per_day[int((r[3] - START.timestamp()) // 86400)].add(r[0])
        assert figures.mentioners_one_day[pos] == max((len(s) for s in per_day.values()), default=0)
        assert figures.actions_received[pos] == len(theirs)
        my_posts = [p for p in range(N_POSTS) if int(window.posts.author[p]) in mine]
        sharers = {
            p: {r[0] for r in theirs if r[4] == p and r[2] in (Kind.SHARE, Kind.QUOTE)}
            for p in my_posts
        }
        assert figures.top_post_sharers[pos] == max((len(s) for s in sharers.values()), default=0)
        assert figures.posts_shared[pos] == sum(1 for s in sharers.values() if s)
        reactions = [sum(1 for r in theirs if r[4] == p) for p in my_posts]
        assert figures.top_moment_reactions[pos] == max(reactions, default=0)
