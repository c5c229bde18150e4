"""Score an exported window on Spark and write what `manage.py import_scores` reads.

Locally: ``python -m scoring.spark.job WINDOW_DIR OUT_DIR`` (a ``local[*]`` session). On a
cluster: ``spark-submit --py-files klout-scoring.zip scoring/spark/job.py s3a://…/window
s3a://…/scores`` (the README says how). The output directory holds:

- ``today/`` and ``yesterday/`` (the day before, on the same window and calibration, which the
  explanations of score changes compare against), each with ``people/``, ``influence/``,
  ``per_network/`` and ``post_actions/`` as Parquet;
- ``accounts/`` (account id -> linked user) and ``scores.json`` (the window's ``window.json`` plus
  the version and calibration the scores were made with), written last.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from scoring.engine.calibration import Calibration
from scoring.engine.registry import DAY
from scoring.spark.engine import BROADCAST_PEOPLE, SparkResult, score_frames


def local_session(
    *, cores: int = 2, driver_memory: str = "2g", shuffle_partitions: int | None = None
) -> SparkSession:
    """A local Spark session (driver and executors in one JVM) for tests, benches and newcomers."""
    # Python workers (small lookup tables) run the driver's interpreter, not whatever is on PATH
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("klout-scoring")
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions or cores * 2))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )


def _path(base: str, *parts: str) -> str:
    # object-store URLs (s3a://, gs://, abfss://) and local paths alike
    return "/".join([base.rstrip("/"), *parts])


def read_frames(spark: SparkSession, window: str) -> tuple[DataFrame, DataFrame, DataFrame]:
    """The window's interactions, posts and accounts as DataFrames."""
    return (
        spark.read.parquet(_path(window, "interactions")),
        spark.read.parquet(_path(window, "posts")),
        spark.read.parquet(_path(window, "accounts")),
    )


def _read_json(spark: SparkSession, url: str) -> dict[str, Any]:
    text = "\n".join(r.value for r in spark.read.text(url, wholetext=True).collect())
    data: dict[str, Any] = json.loads(text)
    return data


def _write_json(spark: SparkSession, url: str, data: dict[str, Any]) -> None:
    if "://" not in url or url.startswith("file://"):
        Path(url.removeprefix("file://")).write_text(json.dumps(data, indent=2, sort_keys=True))
        return
    # object stores: through Hadoop's filesystem, as Spark itself writes there
    context: Any = spark.sparkContext
    hpath = context._jvm.org.apache.hadoop.fs.Path(url)
    fs = hpath.getFileSystem(context._jsc.hadoopConfiguration())
    stream = fs.create(hpath, True)
    stream.write(json.dumps(data, indent=2, sort_keys=True).encode())
    stream.close()


def write_result(result: SparkResult, out: str) -> None:
    """One scored day's DataFrames as Parquet under ``out``."""
    result.people.write.mode("overwrite").parquet(_path(out, "people"))
    result.influence.write.mode("overwrite").parquet(_path(out, "influence"))
    result.per_network.write.mode("overwrite").parquet(_path(out, "per_network"))
    result.post_actions.write.mode("overwrite").parquet(_path(out, "post_actions"))


def run(
    spark: SparkSession,
    window: str,
    out: str,
    *,
    yesterday: bool = True,
    on_step: Callable[[str, float], None] | None = None,
    broadcast_people: int = BROADCAST_PEOPLE,
) -> dict[str, float]:
    """Score the window's day (and the day before) and write them under ``out``.

    Returns wall times in seconds: ``today_s`` and ``yesterday_s`` in all, and today's per step
    (``today_pairs_s``, ``today_network_1_s``, ..., ``today_write_s``).
    """
    meta = _read_json(spark, _path(window, "window.json"))
    # The engine keeps the pairs partitioned by receiver and sorted by actor across its
    # checkpoints, so its running sums and PageRank rounds move no rows. Adaptive execution
    # would hide that partitioning from the checkpoints (and re-shuffle the pairs every step).
    spark.conf.set("spark.sql.adaptive.enabled", "false")
    # the rows are read from Parquet by each of the few passes over them rather than cached:
    # at 100M rows a cache would take most of the memory the shuffles and sorts need
    interactions, posts, accounts = read_frames(spark, window)
    stored = meta.get("calibration")
    calibration = Calibration.from_dict(stored) if stored else None
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    steps: dict[str, float] = {}
    today = score_frames(
        interactions,
        posts,
        accounts,
        as_of=float(meta["as_of"]),
        version=str(meta["version"]),
        calibration=calibration,
        timings=steps,
        on_step=on_step,
        broadcast_people=broadcast_people,
    )
    t1 = time.perf_counter()
    write_result(today, _path(out, "today"))
    timings.update({f"today_{step}": seconds for step, seconds in steps.items()})
    timings["today_write_s"] = time.perf_counter() - t1
    timings["today_s"] = time.perf_counter() - t0
    if yesterday:
        t0 = time.perf_counter()
        before = score_frames(
            interactions,
            posts,
            accounts,
            as_of=float(meta["as_of"]) - DAY,
            version=str(meta["version"]),
            calibration=today.calibration,
            broadcast_people=broadcast_people,
        )
        write_result(before, _path(out, "yesterday"))
        timings["yesterday_s"] = time.perf_counter() - t0
    accounts.select(F.col("account_id").cast("long"), F.col("user_id").cast("long")).write.mode(
        "overwrite"
    ).parquet(_path(out, "accounts"))
    scores = {
        **meta,
        "calibration": today.calibration.to_dict(),
        "calibration_stored": bool(stored),
        "yesterday": yesterday,
        "spark_version": spark.version,
    }
    _write_json(spark, _path(out, "scores.json"), scores)
    return timings


def main(argv: list[str] | None = None) -> None:
    """Command line for spark-submit and local runs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("window", help="directory (or object-store URL) export_window wrote")
    parser.add_argument("out", help="where to write the scores for import_scores")
    parser.add_argument("--no-yesterday", action="store_true", help="skip the day before")
    parser.add_argument(
        "--local",
        type=int,
        default=None,
        metavar="CORES",
        help="start a local session with this many cores (default: the session spark-submit made)",
    )
    parser.add_argument("--driver-memory", default="2g")
    args = parser.parse_args(argv)
    if args.local:
        spark = local_session(cores=args.local, driver_memory=args.driver_memory)
    else:
        spark = SparkSession.builder.appName("klout-scoring").getOrCreate()
    timings = run(
        spark,
        args.window,
        args.out,
        yesterday=not args.no_yesterday,
        on_step=lambda step, seconds: print(f"{step}: {seconds:.1f} s", flush=True),
    )
    print(json.dumps({k: round(v, 3) for k, v in timings.items()}))
    spark.stop()


if __name__ == "__main__":
    main()
