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
import gc
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


def generate(out: Path, n_people: int, n_edges: int, seed: int = 7) -> None:
    """Write a power-law window (bench/score_db.py's shape) as export_window's Parquet.

    Chunk by chunk (a million rows per part file, each chunk from its own seeded stream), so a
    100M-row day never sits in memory: only the people's permutation and one chunk do.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from scoring.engine.registry import LATEST
    from scoring.spark.window_io import (
        ACCOUNT_SCHEMA,
        FORMAT,
        INTERACTION_SCHEMA,
        POST_SCHEMA,
        ROWS_PER_FILE,
    )

    as_of = 1_793_491_200.0  # 2026-11-02 00:00 UTC
    # account ids 1..n in a shuffled order, so the heavy receivers are spread over the ids
    ids = np.random.default_rng(seed).permutation(n_people).astype(np.int64) + 1
    for d in ("interactions", "accounts", "posts"):
        (out / d).mkdir(parents=True)
    for part, start in enumerate(range(0, n_edges, ROWS_PER_FILE)):
        m = min(ROWS_PER_FILE, n_edges - start)
        rng = np.random.default_rng([seed, part])
        receiver = ids[(rng.pareto(1.1, m) * 50).astype(np.int64) % n_people]
        actor = ids[(rng.pareto(2.0, m) * n_people / 4).astype(np.int64) % n_people]
        table = pa.table(
            {
                "actor": actor,
                "receiver": receiver,
                "kind": rng.integers(0, 4, m).astype(np.int8),
                "time": as_of - 1.0 - rng.random(m) * 89 * DAY_S,
                "post": np.full(m, -1, dtype=np.int64),
                "network": np.zeros(m, dtype=np.int8),
            },
            schema=INTERACTION_SCHEMA,
        )
        pq.write_table(table, out / "interactions" / f"part-{part:05d}.parquet", compression="zstd")
    accounts = pa.table(
        {
            "account_id": np.arange(1, n_people + 1, dtype=np.int64),
            "user_id": pa.nulls(n_people, pa.int64()),
        },
        schema=ACCOUNT_SCHEMA,
    )
    for part, start in enumerate(range(0, n_people, ROWS_PER_FILE)):
        pq.write_table(
            accounts.slice(start, ROWS_PER_FILE),
            out / "accounts" / f"part-{part:05d}.parquet",
            compression="zstd",
        )
    pq.write_table(POST_SCHEMA.empty_table(), out / "posts" / "part-00000.parquet")
    meta = {
        "day": "2026-11-01",
        "as_of": as_of,
        "version": LATEST,
        "calibration": None,
        "format": FORMAT,
        "rows": {"interactions": n_edges, "accounts": n_people, "posts": 0},
    }
    (out / "window.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


class TreePeak:
    """Samples the resident memory of this process and all its children (the Spark driver JVM,
    Python workers) together, twice a second: the peak of the whole tree, not of one process."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self.jvm_peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreePeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self) -> None:
        """Take one sample now."""
        me = psutil.Process()
        total = me.memory_info().rss / 2**20
        jvm = 0.0
        for child in me.children(recursive=True):
            try:
                rss = child.memory_info().rss / 2**20
                total += rss
                if "java" in child.name():
                    jvm += rss
            except psutil.Error:
                continue
        self.peak_mb = max(self.peak_mb, total)
        self.jvm_peak_mb = max(self.jvm_peak_mb, jvm)

    def _run(self) -> None:
        self.sample()
        while not self._stop.wait(0.5):
            self.sample()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, default=10_000_000)
    parser.add_argument("--huge", action="store_true", help="10M / 100M on Spark only")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--driver-memory", default="6g")
    parser.add_argument("--work", default=None, help="scratch directory (default: the system's)")
    parser.add_argument("--json", default=str(REPO / "var" / "bench" / "spark.json"))
    args = parser.parse_args()
    if args.huge:
        args.people, args.interactions = 10_000_000, 100_000_000
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from scoring.engine.score import score_window
    from scoring.spark.job import local_session, run
    from scoring.spark.window_io import read_window

    figures: dict[str, float] = {
        "people": args.people,
        "interactions": args.interactions,
        "spark_cores": args.cores,
    }
    work = Path(tempfile.mkdtemp(prefix="klout-bench-spark-", dir=args.work))
    try:
        with TreePeak() as peak:
            t0 = time.perf_counter()
            generate(work / "window", args.people, args.interactions)
            figures["generate_parquet_s"] = round(time.perf_counter() - t0, 3)
            print(f"generated in {figures['generate_parquet_s']:.1f} s", flush=True)
            figures["generate_peak_rss_mb"] = round(peak.peak_mb, 1)

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
            gc.collect()

        partitions = max(args.cores * 2, args.interactions // 2_000_000)
        partitions += -partitions % args.cores  # whole waves of tasks
        with TreePeak() as peak:
            t0 = time.perf_counter()
            spark = local_session(
                cores=args.cores, driver_memory=args.driver_memory, shuffle_partitions=partitions
            )
            spark.sparkContext.setLogLevel("ERROR")
            figures["spark_shuffle_partitions"] = partitions
            figures["spark_session_s"] = round(time.perf_counter() - t0, 3)
            t0 = time.perf_counter()
            steps = run(
                spark,
                str(work / "window"),
                str(work / "scores"),
                yesterday=False,
                on_step=lambda step, s: print(
                    f"spark {step}: {s:.1f} s (tree peak {peak.peak_mb:,.0f} MB)", flush=True
                ),
            )
            figures["spark_engine_s"] = round(time.perf_counter() - t0, 3)
            for step, seconds in steps.items():
                figures[f"spark_{step}"] = round(seconds, 3)
            spark.stop()
        figures["spark_events_per_s"] = round(args.interactions / figures["spark_engine_s"])
        figures["spark_driver_memory_mb"] = float(
            int(args.driver_memory.rstrip("gGmM")) * (1024 if args.driver_memory[-1] in "gG" else 1)
        )
        figures["spark_jvm_peak_rss_mb"] = round(peak.jvm_peak_mb, 1)
        figures["spark_tree_peak_rss_mb"] = round(peak.peak_mb, 1)
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
    # one file for both sizes: the 10M / 100M figures carry a huge_ prefix
    kept = json.loads(out.read_text()) if out.exists() else {}
    if args.huge:
        kept = {k: v for k, v in kept.items() if not k.startswith("huge_")}
        kept.update({f"huge_{k}": v for k, v in figures.items()})
    else:
        kept = {k: v for k, v in kept.items() if k.startswith("huge_")} | figures
    out.write_text(json.dumps(kept, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
