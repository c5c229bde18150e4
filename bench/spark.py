"""Benchmark the same day through numpy and through local Spark: both figures and their ratio.

Default: 1M people / 10M interactions in the 90-day window (``--people``/``--interactions`` to
change; ``--huge``: 10M / 100M on Spark only, whose peak memory is held by ``--driver-memory``:
local mode runs the executors inside the driver JVM). The window is generated (power-law
receivers, as bench/score_db.py), written once as export_window's Parquet, then scored by
`scoring.engine.score_window` (after `read_window`) and by `scoring.spark.job.run` on
``local[--cores]``. Prints the figures and writes flat JSON to var/bench/spark.json. No database.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DAY_S = 86400.0


def generate(n_people: int, n_edges: int, seed: int = 7) -> object:
    """A power-law window as WindowArrays (bench/score_db.py's shape, without a database)."""
    from scoring.engine.registry import LATEST
    from scoring.engine.types import Interactions, Posts
    from scoring.spark.window_io import WindowArrays

    rng = np.random.default_rng(seed)
    as_of = 1_793_491_200.0  # 2026-11-02 00:00 UTC
    receiver = (rng.pareto(1.1, n_edges) * 50).astype(np.int64) % n_people
    actor = (rng.pareto(2.0, n_edges) * n_people / 4).astype(np.int64) % n_people
    perm = rng.permutation(n_people).astype(np.int32)
    inter = Interactions(
        actor=perm[actor],
        receiver=perm[receiver],
        kind=rng.integers(0, 4, n_edges).astype(np.int8),
        time=as_of - 1.0 - rng.random(n_edges) * 89 * DAY_S,
        post=np.full(n_edges, -1, dtype=np.int64),
        network=np.zeros(n_edges, dtype=np.int8),
        n_people=n_people,
    )
    return WindowArrays(
        interactions=inter,
        posts=Posts.empty(),
        account_ids=np.arange(1, n_people + 1, dtype=np.int64),
        post_ids=np.zeros(0, dtype=np.int64),
        user_ids=np.full(n_people, -1, dtype=np.int64),
        meta={"day": "2026-11-01", "as_of": as_of, "version": LATEST, "calibration": None},
    )


class JvmPeak:
    """Samples the resident memory of this process's JVM children (the Spark driver)."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> JvmPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(0.5):
            total = 0.0
            for child in me.children(recursive=True):
                try:
                    if "java" in child.name():
                        total += child.memory_info().rss / 2**20
                except psutil.Error:
                    continue
            self.peak_mb = max(self.peak_mb, total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, default=10_000_000)
    parser.add_argument("--huge", action="store_true", help="10M / 100M on Spark only")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--driver-memory", default="6g")
    parser.add_argument("--json", default=str(REPO / "var" / "bench" / "spark.json"))
    args = parser.parse_args()
    if args.huge:
        args.people, args.interactions = 10_000_000, 100_000_000
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from scoring.engine.score import score_window
    from scoring.spark.job import local_session, run
    from scoring.spark.window_io import read_window, write_window

    figures: dict[str, float] = {
        "people": args.people,
        "interactions": args.interactions,
        "spark_cores": args.cores,
    }
    work = Path(tempfile.mkdtemp(prefix="klout-bench-spark-"))
    try:
        t0 = time.perf_counter()
        window = generate(args.people, args.interactions)
        write_window(work / "window", window=window)  # type: ignore[arg-type]
        del window
        figures["export_parquet_s"] = round(time.perf_counter() - t0, 3)

        if not args.huge:
            t0 = time.perf_counter()
            local = read_window(work / "window")
            figures["numpy_read_s"] = round(time.perf_counter() - t0, 3)
            t0 = time.perf_counter()
            result = score_window(local.interactions, local.posts, as_of=float(local.meta["as_of"]))
            figures["numpy_engine_s"] = round(time.perf_counter() - t0, 3)
            figures["numpy_events_per_s"] = round(args.interactions / figures["numpy_engine_s"])
            figures["numpy_peak_rss_mb"] = round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1
            )
            raw_numpy = result.raw
            del local, result

        spark = local_session(
            cores=args.cores,
            driver_memory=args.driver_memory,
            shuffle_partitions=max(args.cores * 2, args.interactions // 2_000_000),
        )
        spark.sparkContext.setLogLevel("ERROR")
        with JvmPeak() as peak:
            t0 = time.perf_counter()
            run(spark, str(work / "window"), str(work / "scores"), yesterday=False)
            figures["spark_engine_s"] = round(time.perf_counter() - t0, 3)
        spark.stop()
        figures["spark_events_per_s"] = round(args.interactions / figures["spark_engine_s"])
        figures["spark_driver_memory_mb"] = float(
            int(args.driver_memory.rstrip("gGmM")) * (1024 if args.driver_memory[-1] in "gG" else 1)
        )
        figures["spark_jvm_peak_rss_mb"] = round(peak.peak_mb, 1)
        if not args.huge:
            from scoring.spark.results import read_scores

            spark_raw = read_scores(work / "scores").today.raw
            figures["raw_scores_equal"] = float(np.array_equal(spark_raw, raw_numpy))
            figures["spark_ratio_vs_numpy"] = round(
                figures["spark_engine_s"] / figures["numpy_engine_s"], 2
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for name, value in figures.items():
        print(f"{name:28s} {value:>14,}")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
