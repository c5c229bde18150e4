"""The current algorithm version on Spark DataFrames: the numpy engine's maths, beyond one box.

Every step mirrors `scoring.engine.score` (read its docstring for the model): rows in the window
become (actor, receiver, age bucket) counts, then per-pair reach, volume, newest decay and "hot";
selectivity and the back-scratching rule weigh each pair; the network term is two rounds of a
saturating PageRank done as joins of the pair table with the people's standing; amplification,
styles and the raw -> 1..100 calibration follow.

Parity with numpy is a contract (tests/scoring/spark/test_parity.py), so three things are done
the way numpy does them rather than the way Spark would by default:

- every per-person and per-pair sum adds its terms in numpy's order (pairs by actor, buckets by
  age), as a running window sum read off each group's last row: float addition is not
  associative, and ties (a reactor exactly as reached as its receiver) must break the same way;
- decay factors come from tables computed once with numpy and shipped as literals, so Java's
  ``pow`` never stands in for numpy's ``exp2``;
- floor division of float ages follows numpy's ``//`` (fmod first, then floor), and rounding to
  the resolution is half-to-even (``bround``), like ``np.round``.

Layout: the rows are shuffled once, by receiver; the pairs they make stay partitioned by
receiver and sorted by (receiver, actor) through every later step (per-person values reach them
by broadcast joins up to ``BROADCAST_PEOPLE`` accounts), so the receiver sums and the PageRank
rounds are narrow. Each step ends in a local checkpoint that keeps that partitioning; the job
turns adaptive execution off, which would hide it.

No Django here (an import-linter contract says so); the session comes from the caller.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pyspark.sql import Column, DataFrame, SparkSession, Window, WindowSpec
from pyspark.sql import functions as F

from scoring.engine.calibration import Calibration
from scoring.engine.registry import DAY, Algorithm, get_version
from scoring.engine.styles import (
    _GRID,
    N_WEEKS,
    PARTICIPATING_KINDS,
    SHARING_KINDS,
    STYLES,
    WEEK,
)

PAIR = ["actor", "receiver"]
# per-person tables up to this many rows are broadcast to every task (about 25 bytes a row); a
# 10M-row broadcast ran out of a 10 GB local driver already full of checkpointed pairs
BROADCAST_PEOPLE = 2_000_000
BROADCAST_ROWS = 2_000_000


@dataclass(frozen=True)
class SparkResult:
    """What one scored day is on Spark: DataFrames keyed by account id, plus the calibration.

    ``people`` has one row per account (all engine outputs per person), ``influence`` one per
    (actor, receiver) pair with its weight after anti-gaming, ``per_network`` the counted actions
    per (receiver, network), ``post_actions`` the counted actions per post of the window.
    """

    version: str
    as_of: float
    calibration: Calibration
    people: DataFrame
    influence: DataFrame
    per_network: DataFrame
    post_actions: DataFrame


def _table(spark: SparkSession, key: str, name: str, values: np.ndarray) -> DataFrame:
    """A small (index, value) lookup table computed by numpy, broadcast to every join."""
    rows = list(enumerate(values.tolist()))
    return F.broadcast(spark.createDataFrame(rows, f"{key} long, {name} double"))


def floor_div(a: Column, b: float) -> Column:
    """numpy's float ``a // b`` (b > 0): fmod first, then floor, as ``npy_divmod`` does."""
    mod = a % F.lit(b)
    div = (a - mod) / F.lit(b)
    div = F.when((mod != 0) & (mod < 0), div - 1.0).otherwise(div)
    fl = F.floor(div).cast("double")
    return F.when(div - fl > 0.5, fl + 1.0).otherwise(fl)


def _running(*partition: str, order: list[str]) -> WindowSpec:
    """Rows of each group from its first row up to the current one, in ascending ``order``."""
    return (
        Window.partitionBy(*partition)
        .orderBy(*order)
        .rowsBetween(Window.unboundedPreceding, Window.currentRow)
    )


def _lookup(*, broadcast: bool) -> Callable[[DataFrame], DataFrame]:
    """A join side: broadcast (the big side keeps its partitioning) or left to the planner."""
    return F.broadcast if broadcast else (lambda df: df)


def _receiver_sums(pairs: DataFrame, values: dict[str, Column]) -> DataFrame:
    """Per receiver (as ``person``): each value summed over its pairs in ascending actor order.

    numpy adds a receiver's terms in the pairs' (actor, receiver) order from 0.0 (bincount); a
    running window sum adds them one at a time in its ordering too, so the total on each group's
    last row is the same float, bit for bit. Ties (a reactor exactly as reached as its receiver)
    then break the same way. The window streams each receiver's sorted pairs: no per-group list.
    """
    running = _running("receiver", order=["actor"])
    last = F.lead("actor").over(Window.partitionBy("receiver").orderBy("actor")).isNull()
    summed = pairs.select(
        "receiver",
        *[F.sum(value).over(running).alias(name) for name, value in values.items()],
        last.alias("_last"),
    )
    return summed.where("_last").select(F.col("receiver").alias("person"), *values)


def _pair_sums(fine_counts: DataFrame, hot_w: Column) -> DataFrame:
    """Per pair: hot, reach, volume and latest from its (fine bucket, count, decay) rows.

    As numpy does: ``hot`` adds ``hot_w`` over fine buckets in ascending age, ``reach`` the decay
    of each distinct reach bucket and ``volume`` the bucket's count (an integer: exact in any
    order) times its decay, in ascending bucket age; ``latest`` is the decay of the newest bucket.
    Ordering by (bucket, fine) is ordering by fine (buckets are fine buckets // ratio), so every
    window below shares one sort of the pair-partitioned rows.
    """
    order = ["bucket", "fine"]
    # partitioned by receiver first: the pairs come out sorted as the receiver sums want them
    by_receiver = ["receiver", "actor"]
    running = _running(*by_receiver, order=order)
    in_pair = Window.partitionBy(*by_receiver).orderBy(*order)
    in_bucket = (
        Window.partitionBy(*by_receiver, "bucket")
        .orderBy("fine")
        .rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    )
    previous = F.lag("bucket").over(in_pair)
    first_of_bucket = previous.isNull() | (previous != F.col("bucket"))
    rows = fine_counts.select(
        *PAIR,
        "bucket",
        "fine",
        "decay",
        hot_w.alias("hot_w"),
        F.sum("count").over(in_bucket).alias("bucket_count"),
        first_of_bucket.alias("first_of_bucket"),
        F.lead("fine").over(in_pair).isNull().alias("last_of_pair"),
    )
    first = F.col("first_of_bucket")
    summed = rows.select(
        *PAIR,
        "last_of_pair",
        F.sum("hot_w").over(running).alias("hot"),
        F.sum(F.when(first, F.col("decay")).otherwise(0.0)).over(running).alias("reach"),
        F.sum(F.when(first, F.col("bucket_count") * F.col("decay")).otherwise(0.0))
        .over(running)
        .alias("volume"),
        F.first("decay").over(running).alias("latest"),
    )
    return summed.where("last_of_pair").drop("last_of_pair")


def score_frames(
    interactions: DataFrame,
    posts: DataFrame,
    accounts: DataFrame,
    *,
    as_of: float,
    version: Algorithm | str,
    calibration: Calibration | None = None,
    broadcast_people: int = BROADCAST_PEOPLE,
    timings: dict[str, float] | None = None,
    on_step: Callable[[str, float], None] | None = None,
) -> SparkResult:
    """Score every account in ``accounts`` from the window of ``interactions`` before ``as_of``.

    With at most ``broadcast_people`` accounts, per-person values (selectivity, the PageRank
    standing) are broadcast to the pairs rather than shuffled to them: the pairs then stay
    partitioned by receiver and sorted by actor from the first stage to the last. Each step's
    wall time (its name, then ``_s``) goes into ``timings`` when one is given, and ``on_step``
    hears each step's name and seconds as it ends (progress for long runs).
    """
    clock = [time.perf_counter()]

    def done(step: str, df: DataFrame) -> DataFrame:
        out = _materialize(df)
        now = time.perf_counter()
        if timings is not None:
            timings[f"{step}_s"] = now - clock[0]
        if on_step is not None:
            on_step(step, now - clock[0])
        clock[0] = now
        return out

    algo = get_version(version)
    people = accounts.select(F.col("account_id").cast("long").alias("person"))
    start = as_of - algo.window_days * DAY
    n_buckets = math.ceil(algo.window_days * DAY / algo.bucket_seconds) + 1
    ratio = _fine_per_bucket(algo)
    fine_seconds = algo.bucket_seconds / ratio
    n_fine = (n_buckets - 1) * ratio + 1

    window = interactions.where((F.col("time") < as_of) & (F.col("time") >= start)).withColumn(
        "age", F.lit(as_of) - F.col("time")
    )
    counted = window.where(F.col("actor") != F.col("receiver"))

    # --- per (pair, age bucket), then per pair ---------------------------------------------
    # The rows are shuffled once, by pair; counting per (pair, fine bucket), the window sums
    # over each pair's buckets and picking each pair's last row all keep that partitioning.
    fine = F.least(F.greatest(floor_div(F.col("age"), fine_seconds), F.lit(0.0)), F.lit(n_fine - 1))
    fine_counts = (
        counted.select(*PAIR, fine.cast("long").alias("fine"))
        .repartition("receiver")
        .groupBy("actor", "receiver", "fine")
        .agg(F.count(F.lit(1)).cast("double").alias("count"))
    )
    bucket_decay = np.exp2(
        -np.arange(n_buckets) * algo.bucket_seconds / (algo.half_life_days * DAY)
    )
    spark = interactions.sparkSession
    fine_counts = fine_counts.withColumn(
        "bucket", F.least(F.floor(F.col("fine") / ratio), F.lit(n_buckets - 1))
    ).join(_table(spark, "bucket", "decay", bucket_decay), "bucket")
    if ratio > 1:
        mid_age = (np.arange(n_fine, dtype=np.int16) + 0.5) * fine_seconds
        hot_table = _table(
            spark, "fine", "hot_factor", np.exp2(-mid_age / algo.hot_half_life_seconds)
        )
        fine_counts = fine_counts.join(hot_table, "fine")
        hot_w = F.col("count") * F.col("hot_factor")
    else:
        hot_w = F.lit(0.0)
    pairs = _pair_sums(fine_counts, hot_w).withColumn("volume", F.col("volume").cast("float"))
    pairs = pairs.withColumn("hot", F.col("hot").cast("float")).withColumn(
        "latest", F.col("latest").cast("float")
    )
    pairs = done("pairs", pairs)
    lookup = _lookup(broadcast=people.count() <= broadcast_people)

    # --- selectivity and back-scratching ---------------------------------------------------
    dout = pairs.groupBy(F.col("actor").alias("person")).agg(
        F.count(F.lit(1)).cast("double").alias("dout")
    )
    din = pairs.groupBy(F.col("receiver").alias("person")).agg(
        F.count(F.lit(1)).cast("double").alias("din")
    )
    degree = (
        people.join(dout, "person", "left")
        .join(din, "person", "left")
        .fillna(0.0, ["dout", "din"])
        .withColumn(
            "selectivity",
            F.least(
                F.lit(1.0),
                F.sqrt(F.lit(float(algo.selective_limit)) / F.greatest(F.col("dout"), F.lit(1.0))),
            ),
        )
    )
    need = F.greatest(F.lit(float(algo.ring_min)), F.lit(algo.ring_share) * F.col("din"))
    degree = done(
        "degree", degree.withColumn("candidate", (F.col("din") >= need) & (F.col("dout") >= need))
    )
    sel = F.col("selectivity")
    pairs = pairs.join(lookup(degree.select(F.col("person").alias("actor"), sel)), "actor")
    pairs = pairs.withColumn("sel_reach", sel * F.col("reach"))
    reach0 = _receiver_sums(pairs, {"reach0": F.col("sel_reach")})
    # a mutual pair's reverse starts at a candidate too: only candidates' pairs are matched
    candidates = degree.where("candidate").select("person")
    to_candidates = pairs.select(*PAIR).join(
        lookup(candidates.withColumnRenamed("person", "receiver")), "receiver", "left_semi"
    )
    reverse = pairs.select(F.col("receiver").alias("actor"), F.col("actor").alias("receiver")).join(
        lookup(candidates.withColumnRenamed("person", "receiver")), "receiver", "left_semi"
    )
    mutual = done("mutual", to_candidates.join(reverse, PAIR))
    n_mutual = mutual.groupBy(F.col("receiver").alias("person")).agg(
        F.count(F.lit(1)).cast("double").alias("n_mutual")
    )
    closed_people = (
        degree.select("person", "din")
        .join(n_mutual, "person")
        .join(reach0, "person", "left")
        .fillna(0.0, ["reach0"])
        .where(
            (F.col("n_mutual") >= algo.ring_min)
            & (F.col("n_mutual") / F.greatest(F.col("din"), F.lit(1.0)) >= algo.ring_share)
        )
        .select("person", "reach0")
    )
    standing0 = people.join(reach0, "person", "left").fillna(0.0, ["reach0"])
    scratching = (
        mutual.join(
            closed_people.select(F.col("person").alias("receiver"), F.col("reach0").alias("r0")),
            "receiver",
        )
        .join(
            standing0.select(F.col("person").alias("actor"), F.col("reach0").alias("a0")), "actor"
        )
        .where(F.col("a0") >= F.col("r0"))
    )
    if algo.ring_both_closed:
        scratching = scratching.join(
            closed_people.select(F.col("person").alias("actor")), "actor", "left_semi"
        )
    scratching = done("scratching", scratching.select(*PAIR, F.lit(True).alias("scratching")))
    # usually a handful of rings: joined without moving the pairs when it is small
    if scratching.count() <= BROADCAST_ROWS:
        scratching = F.broadcast(scratching)
    pairs = pairs.join(scratching, PAIR, "left").fillna(False, ["scratching"])
    is_scr = F.col("scratching")
    latest = F.col("latest").cast("double")
    pairs = pairs.withColumn("reach", F.when(is_scr, latest).otherwise(F.col("reach")))
    if algo.scratching_counts_once:
        pairs = pairs.withColumn(
            "volume", F.when(is_scr, F.col("latest")).otherwise(F.col("volume"))
        ).withColumn("hot", F.when(is_scr, F.lit(0.0).cast("float")).otherwise(F.col("hot")))
    factor = F.when(is_scr, sel * F.lit(algo.reciprocal_weight)).otherwise(sel)
    pairs = (
        pairs.withColumn("factor", factor)
        .withColumn("weight", F.col("factor") * F.col("reach"))
        .select(
            *PAIR,
            "factor",
            "weight",
            F.col("volume").cast("double").alias("volume"),
            F.col("hot").cast("double").alias("hot"),
            latest.alias("latest"),
        )
    )
    pairs = done("weights", pairs)

    f = F.col("factor")
    sums = _receiver_sums(
        pairs,
        {
            "volume_sum": f * F.col("volume"),
            "hot_sum": f * F.col("hot"),
            "true_reach": f * F.col("latest"),
            "reach_weight": F.col("weight"),
        },
    )
    per = done(
        "sums",
        people.join(sums, "person", "left").fillna(
            0.0, ["volume_sum", "hot_sum", "true_reach", "reach_weight"]
        ),
    )

    # --- network: saturating PageRank by iterated joins -----------------------------------
    weighted = per.select("person", F.col("reach_weight").alias("weighted"))
    rounds = algo.network_rounds if algo.network_weight > 0 else 0
    for round_ in range(rounds):
        standing = F.log1p(F.col("weighted"))
        quality = standing / (standing + F.lit(algo.network_scale)) * F.lit(
            algo.network_weight
        ) + F.lit(1.0)
        q = weighted.select(F.col("person").alias("actor"), quality.alias("q"))
        by_quality = _receiver_sums(
            pairs.select("actor", "receiver", "weight").join(lookup(q), "actor"),
            {"weighted": F.col("weight") * F.col("q")},
        )
        weighted = done(
            f"network_{round_ + 1}",
            people.join(by_quality, "person", "left").fillna(0.0, ["weighted"]),
        )

    # --- rows: received actions, activity for styles ---------------------------------------
    # one pass over the rows per side: actions received per network (and in all, an exact
    # integer sum), one's own activity with the weeks one acted in as a bit mask
    by_network = done(
        "received",
        counted.groupBy(F.col("receiver").alias("person"), "network").agg(
            F.count(F.lit(1)).alias("actions"), F.max("time").alias("last_received")
        ),
    )
    received = by_network.groupBy("person").agg(
        F.sum("actions").cast("double").alias("received"),
        F.max("last_received").alias("last_received"),
    )
    per_network = by_network.select("person", "network", "actions")
    kind = F.col("kind")
    activity = window.groupBy(F.col("actor").alias("person")).agg(
        F.count(F.lit(1)).cast("double").alias("acts"),
        F.sum(F.when(kind.isin([int(k) for k in SHARING_KINDS]), 1.0).otherwise(0.0)).alias(
            "shares"
        ),
        F.sum(F.when(kind.isin([int(k) for k in PARTICIPATING_KINDS]), 1.0).otherwise(0.0)).alias(
            "talk"
        ),
        F.max((F.col("actor") == F.col("receiver")).cast("int"))
        .cast("boolean")
        .alias("self_acted"),
        _week_bit(F.least(floor_div(F.col("age"), WEEK), F.lit(float(N_WEEKS - 1)))),
    )
    post_week = F.least(
        F.greatest(floor_div(F.lit(as_of) - F.col("time"), WEEK), F.lit(0.0)),
        F.lit(float(N_WEEKS - 1)),
    )
    post_counts = posts.groupBy(F.col("author").alias("person")).agg(
        _week_bit(post_week).alias("post_weeks"),
        F.sum(F.when(~F.col("is_share"), 1.0).otherwise(0.0)).alias("originals"),
        F.sum(F.when(F.col("is_reply"), 1.0).otherwise(0.0)).alias("replies"),
        F.sum(F.when((F.col("time") < as_of) & (F.col("time") >= start), 1.0).otherwise(0.0)).alias(
            "n_posts"
        ),
    )
    has_posts = posts.limit(1).count() > 0
    post_actions = (
        counted.where(F.col("post") >= 0)
        .groupBy(F.col("post").alias("post_id"))
        .agg(F.count(F.lit(1)).alias("actions"))
    )
    post_actions = (
        posts.select("post_id", "author")
        .join(post_actions, "post_id", "left")
        .fillna(0, ["actions"])
    )

    df = (
        per.join(weighted, "person", "left")
        .join(received, "person", "left")
        .join(activity, "person", "left")
        .join(post_counts, "person", "left")
        .join(degree.select("person", "dout"), "person", "left")
        .fillna(0, ["weeks", "post_weeks"])
        .withColumn(
            "n_weeks", F.bit_count(F.col("weeks").bitwiseOR(F.col("post_weeks"))).cast("double")
        )
        .fillna(0.0, ["received", "acts", "shares", "talk", "originals", "replies"])
        .fillna(0.0, ["n_posts", "dout"])
        .fillna(False, ["self_acted"])
    )
    df = done("people", df)
    reach = F.col("reach_weight")
    established = reach >= algo.volume_min_reach
    comp_reach = F.log1p(reach)
    df = df.withColumn("c_reach", comp_reach)
    df = df.withColumn(
        "c_volume",
        F.when(established, F.lit(algo.volume_weight) * F.log1p(F.col("volume_sum"))).otherwise(
            0.0
        ),
    ).withColumn(
        "c_hot",
        F.when(established, F.lit(algo.hot_weight) * F.log1p(F.col("hot_sum"))).otherwise(0.0),
    )
    df = df.withColumn("c_network", F.log1p(F.col("weighted")) - F.col("c_reach")).withColumn(
        "reactor_quality",
        F.when(reach > 0, F.col("weighted") / reach).otherwise(1.0),
    )
    if has_posts:
        per_post = F.when(
            F.col("n_posts") > 0,
            F.col("received") / F.greatest(F.col("n_posts"), F.lit(1.0)),
        ).otherwise(F.col("received"))
        df = df.withColumn("per_post", per_post).withColumn(
            "c_amplification",
            F.when(
                reach > 0, F.lit(algo.amplification_weight) * F.log1p(F.col("per_post"))
            ).otherwise(0.0),
        )
    else:
        df = df.withColumn("per_post", F.lit(0.0)).withColumn("c_amplification", F.lit(0.0))
    total = (
        F.col("c_reach") + F.col("c_volume") + F.col("c_network") + F.col("c_amplification")
    ) + F.col("c_hot")
    df = df.withColumn("raw_unrounded", total)
    res = algo.resolution
    raw = F.bround(F.col("raw_unrounded") / res, 0) * res if res > 0 else F.col("raw_unrounded")
    if algo.self_credit > 0:
        step = algo.resolution if algo.resolution > 0 else 0.1
        credit_floor = F.when(reach > 0, F.lit(step)).otherwise(
            F.when(F.col("self_acted"), F.lit(algo.self_credit * step)).otherwise(0.0)
        )
        raw = F.greatest(raw, credit_floor)
    df = done("raw", df.withColumn("raw", raw))

    if calibration is None:
        calibration = _calibrate(df, algo.name)
    elif calibration.version != algo.name:
        raise ValueError(f"calibration is for {calibration.version!r}, not {algo.name!r}")
    score = F.least(
        F.greatest(
            F.lit(100.0)
            - F.lit(99.0) * F.exp(F.lit(-calibration.k) * F.greatest(F.col("raw"), F.lit(0.0))),
            F.lit(1.0),
        ),
        F.lit(100.0),
    )
    amplification = F.least(
        F.greatest(
            F.lit(100.0) - F.lit(99.0) * F.exp(F.lit(-0.2) * F.log1p(F.col("per_post"))),
            F.lit(1.0),
        ),
        F.lit(100.0),
    )
    network_score = F.least(
        F.greatest(
            F.lit(1.0)
            + F.lit(99.0)
            * (F.col("reactor_quality") - F.lit(1.0))
            / F.lit(max(algo.network_weight, 1e-9)),
            F.lit(1.0),
        ),
        F.lit(100.0),
    )
    df = _styles(df).select(
        F.col("person").alias("account_id"),
        "raw_unrounded",
        "raw",
        score.alias("score"),
        "true_reach",
        amplification.alias("amplification"),
        network_score.alias("network_score"),
        "per_post",
        "reactor_quality",
        "reach_weight",
        F.col("c_reach").alias("reach"),
        F.col("c_volume").alias("volume"),
        F.col("c_network").alias("network"),
        F.col("c_amplification").alias("amplification_component"),
        F.col("c_hot").alias("hot"),
        "received",
        "last_received",
        "self_acted",
        "creating",
        "focused",
        "participating",
        "consistent",
        "style",
    )
    return SparkResult(
        version=algo.name,
        as_of=as_of,
        calibration=calibration,
        people=df,
        influence=pairs.select(*PAIR, "weight"),
        per_network=per_network.withColumnRenamed("person", "account_id"),
        post_actions=post_actions,
    )


def _week_bit(week: Column) -> Column:
    """The weeks (0 .. N_WEEKS - 1) seen in a group as bits: their distinct count is exact."""
    return F.bit_or(F.call_function("shiftleft", F.lit(1), week.cast("int"))).alias("weeks")


def _materialize(df: DataFrame) -> DataFrame:
    """Compute ``df`` now and cut its lineage: later plans start from it, not from its history.

    Without this every step re-analyses the whole chain of joins before it (minutes of planning
    for seconds of work); a local checkpoint keeps the blocks on the executors that made them.
    """
    return df.localCheckpoint(eager=True)


def _fine_per_bucket(algo: Algorithm) -> int:
    if algo.hot_weight <= 0:
        return 1
    ratio = round(algo.bucket_seconds / algo.hot_bucket_seconds)
    if ratio < 1 or ratio * algo.hot_bucket_seconds != algo.bucket_seconds:
        raise ValueError("hot_bucket_seconds must divide bucket_seconds")
    return ratio


def _calibrate(df: DataFrame, version: str, target_mean: float = 20.0) -> Calibration:
    """The version's first calibration: the mean active person (raw > 0) scores 20."""
    row = df.agg(
        F.avg(F.when(F.col("raw") > 0, F.col("raw"))).alias("mean"), F.count(F.lit(1)).alias("n")
    ).first()
    assert row is not None
    mean = float(row["mean"]) if row["mean"] is not None else 1.0
    k = math.log(99.0 / (100.0 - target_mean)) / mean
    return Calibration(
        version=version, k=k, mean_active_raw=mean, target_mean=target_mean, n_people=int(row["n"])
    )


def _styles(df: DataFrame) -> DataFrame:
    """The four trait shares and the style code, as `scoring.engine.styles.style_traits`."""
    acts, originals = F.col("acts"), F.col("originals")
    shares, talk, replies = F.col("shares"), F.col("talk"), F.col("replies")
    creating = F.when(originals + shares > 0, originals / (originals + shares)).otherwise(0.0)
    participating = F.when(acts + originals > 0, (talk + replies) / (acts + originals)).otherwise(
        0.0
    )
    participating = F.when(originals - replies > acts, participating * 0.5).otherwise(participating)
    distinct_targets = F.col("dout") + F.col("self_acted").cast("double")
    focused = F.when(acts > 0, (acts - distinct_targets) / acts).otherwise(0.0)
    consistent = F.col("n_weeks") / 13.0
    df = (
        df.withColumn("creating", creating)
        .withColumn("focused", focused)
        .withColumn("participating", participating)
        .withColumn("consistent", consistent)
    )
    code = F.lit(0)
    poles = [F.col(c) >= 0.5 for c in ("creating", "focused", "participating", "consistent")]
    for key, name in _GRID.items():
        match = None
        for pole, want in zip(poles, key, strict=True):
            cond = pole if want else ~pole
            match = cond if match is None else match & cond
        code = F.when(match, F.lit(STYLES.index(name))).otherwise(code)  # type: ignore[arg-type]
    return df.withColumn("style", code.cast("byte"))
