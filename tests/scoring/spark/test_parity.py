"""Spark scores what the numpy engine scores: raw within 1e-9 relative, published values equal.

Both engines read the same Parquet window (export_window's format): CollegeMsg (messages only,
no posts) and a generated 20k-person slice with posts, several networks and kinds, fractional
times, self-reactions and a sock-puppet ring, so every term of the current version is exercised.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings

from scoring.engine.edgelist import read_edgelist
from scoring.engine.registry import DAY, LATEST
from scoring.engine.score import EngineResult, score_window
from scoring.engine.types import Interactions, Posts
from scoring.spark.job import run
from scoring.spark.results import ImportedScores, read_scores
from scoring.spark.window_io import WindowArrays, read_table, read_window, write_window
from tests.scoring.spark.conftest import needs_java

pytestmark = [needs_java, pytest.mark.slow]


def _day_end(t: float) -> float:
    return float((t // DAY + 1) * DAY)


def collegemsg() -> WindowArrays:
    """CollegeMsg, scored at the end of the day holding 60% of its messages."""
    edges = read_edgelist(settings.SHARED_DATA_DIR / "collegemsg" / "CollegeMsg.txt.gz")
    inter = edges.interactions()
    as_of = _day_end(float(np.sort(inter.time)[int(len(inter) * 0.6)]))
    n = inter.n_people
    return WindowArrays(
        interactions=inter,
        posts=Posts.empty(),
        account_ids=np.arange(n, dtype=np.int64) * 3 + 7,  # ids are not dense indices
        post_ids=np.zeros(0, dtype=np.int64),
        user_ids=np.full(n, -1, dtype=np.int64),
        meta={"day": "collegemsg", "as_of": as_of, "version": LATEST, "calibration": None},
    )


def generated(n: int = 20_000, m: int = 160_000, seed: int = 18) -> WindowArrays:
    """A power-law slice with posts, networks, kinds, self-reactions and a sock-puppet ring."""
    rng = np.random.default_rng(seed)
    as_of = 1_790_000_000.0 // DAY * DAY
    receiver = (rng.pareto(1.1, m) * 20).astype(np.int64) % n
    actor = (rng.pareto(2.0, m) * n / 4).astype(np.int64) % n
    self_rows = rng.random(m) < 0.01
    receiver[self_rows] = actor[self_rows]
    time = as_of - rng.random(m) * 95 * DAY  # some rows fall outside the window
    # a ring of 8 accounts reacting to each other on most days (back-scratching)
    ring = np.arange(n - 8, n)
    ra, rr = np.meshgrid(ring, ring)
    keep = ra != rr
    ra, rr = ra[keep], rr[keep]
    days = np.arange(30)
    ring_actor = np.repeat(ra, days.shape[0])
    ring_receiver = np.repeat(rr, days.shape[0])
    ring_time = as_of - (np.tile(days, ra.shape[0]) + rng.random(ring_actor.shape[0])) * DAY
    actor = np.concatenate([actor, ring_actor])
    receiver = np.concatenate([receiver, ring_receiver])
    time = np.concatenate([time, ring_time])
    total = actor.shape[0]
    n_posts = 30_000
    post_author = rng.integers(0, n, n_posts).astype(np.int32)
    post_time = as_of - rng.random(n_posts) * 91 * DAY
    # a third of the rows name a post (the receiver's own post where they have one)
    post = np.full(total, -1, dtype=np.int64)
    named = rng.random(total) < 0.33
    by_author = {int(a): i for i, a in enumerate(post_author.tolist())}
    picks = [by_author.get(int(r), -1) for r in receiver[named].tolist()]
    post[named] = picks
    inter = Interactions(
        actor=actor.astype(np.int32),
        receiver=receiver.astype(np.int32),
        kind=np.asarray(rng.integers(0, 8, total), dtype=np.int8),
        time=time,
        post=post,
        network=np.asarray(rng.choice(np.array([0, 1, 4]), total), dtype=np.int8),
        n_people=n,
    )
    posts = Posts(
        author=post_author,
        time=post_time,
        network=rng.integers(0, 3, n_posts).astype(np.int8),
        is_share=rng.random(n_posts) < 0.3,
        is_reply=rng.random(n_posts) < 0.4,
    )
    return WindowArrays(
        interactions=inter,
        posts=posts,
        account_ids=np.arange(n, dtype=np.int64) + 1_000,
        post_ids=np.arange(n_posts, dtype=np.int64) * 2 + 5,
        user_ids=np.full(n, -1, dtype=np.int64),
        meta={"day": "generated", "as_of": as_of, "version": LATEST, "calibration": None},
    )


def _both(
    spark: object, window: WindowArrays, tmp: Path, **options: int
) -> tuple[EngineResult, ImportedScores]:
    write_window(tmp / "window", window=window, rows_per_file=50_000)
    local = read_window(tmp / "window")
    numpy_result = score_window(
        local.interactions, local.posts, as_of=float(window.meta["as_of"]), version=LATEST
    )
    run(spark, str(tmp / "window"), str(tmp / "scores"), yesterday=False, **options)  # type: ignore[arg-type]
    return numpy_result, read_scores(tmp / "scores")


def _assert_parity(numpy_result: EngineResult, imported: ImportedScores, tmp: Path) -> None:
    spark_result = imported.today
    comps = numpy_result.components
    unrounded = comps["reach"] + comps["volume"] + comps["network"] + comps["amplification"]
    unrounded += comps["hot"]
    # every raw score before rounding within 1e-9 relative
    np.testing.assert_allclose(imported.raw_unrounded, unrounded, rtol=1e-9, atol=0)
    for name, values in comps.items():
        np.testing.assert_allclose(spark_result.components[name], values, rtol=1e-9, atol=0)
    # the rounded raw, the calibration and the 1-100 score: identical
    assert np.array_equal(spark_result.raw, numpy_result.raw)
    assert spark_result.calibration == numpy_result.calibration
    assert np.array_equal(spark_result.score, numpy_result.score)
    assert np.array_equal(np.round(spark_result.score, 2), np.round(numpy_result.score, 2))
    # Spark's own 1-100 mapping (before the import refits it in numpy) agrees too
    spark_score = read_table(tmp / "scores" / "today" / "people").sort_by("account_id")
    np.testing.assert_allclose(
        spark_score.column("score").to_numpy(), numpy_result.score, rtol=1e-9, atol=0
    )
    # subscores as published (rounded as the API shows them), styles: identical
    for name in ("true_reach", "amplification", "network_score"):
        np.testing.assert_allclose(
            getattr(spark_result, name), getattr(numpy_result, name), rtol=1e-9, atol=0
        )
        assert np.array_equal(
            np.round(getattr(spark_result, name), 1), np.round(getattr(numpy_result, name), 1)
        ), name
    assert np.array_equal(spark_result.style, numpy_result.style)
    for trait in ("creating", "focused", "participating", "consistent"):
        assert np.array_equal(
            getattr(spark_result.traits, trait), getattr(numpy_result.traits, trait)
        ), trait
    # what explanations and the details read: influence, contributions, activity, moments
    assert abs(spark_result.influence - numpy_result.influence).max() <= 1e-9 * max(
        float(numpy_result.influence.max()), 1.0
    )
    assert np.array_equal(spark_result.networks, numpy_result.networks)
    np.testing.assert_allclose(
        spark_result.network_contributions, numpy_result.network_contributions, rtol=1e-6
    )
    assert np.array_equal(spark_result.actions_received, numpy_result.actions_received)
    assert np.array_equal(spark_result.last_received, numpy_result.last_received)
    assert np.array_equal(
        spark_result.post_actions, numpy_result.post_actions[: spark_result.post_actions.shape[0]]
    )


def test_spark_scores_collegemsg_like_numpy(spark, tmp_path):
    numpy_result, imported = _both(spark, collegemsg(), tmp_path)

    assert numpy_result.raw.max() > 0
    _assert_parity(numpy_result, imported, tmp_path)


def test_spark_scores_a_generated_20k_slice_like_numpy(spark, tmp_path):
    window = generated()
    numpy_result, imported = _both(spark, window, tmp_path)

    # the slice exercises the terms that matter: a discounted ring, posts, several networks
    assert numpy_result.components["hot"].max() > 0
    assert numpy_result.components["amplification"].max() > 0
    assert numpy_result.networks.shape[0] == 3
    assert len(set(numpy_result.style.tolist())) > 4
    _assert_parity(numpy_result, imported, tmp_path)
    meta = json.loads((tmp_path / "scores" / "scores.json").read_text())
    assert meta["calibration_stored"] is False


def test_spark_scores_like_numpy_when_people_are_shuffled_not_broadcast(spark, tmp_path):
    # past BROADCAST_PEOPLE accounts the per-person values are joined by shuffles, which move the
    # pairs between steps: the sums must still add in numpy's order
    numpy_result, imported = _both(spark, generated(), tmp_path, broadcast_people=0)

    _assert_parity(numpy_result, imported, tmp_path)
