"""Benchmark scoring through the database: COPY a power-law graph in, then collect + engine + write.

Default: 200k people / 2M interactions in 90 days (``--large``: 1M / 10M; opt-in ``--huge``:
10M / 100M, which needs tens of GB of memory and disk and a long time). Uses the PostgreSQL
database ``klout_bench_score`` (created and migrated if missing; its store is replaced each run).
Prints wall time per stage (collect, engine, write = DailyScore/Explanation rows, publish = the
LatestScore read model), scores/s of the two write stages, end-to-end events/s and peak RSS; writes
flat JSON to var/bench/score_db.json. The server comes from ``BENCH_DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/postgres``; only its host part is used), not DATABASE_URL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
BENCH_DB = "klout_bench_score"
DAY_S = 86400.0
KINDS = ("share", "reply", "mention", "like")
CHUNK = int(os.environ.get("BENCH_CHUNK", 10_000_000))  # edges generated and copied at a time


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def make_edges(
    n_people: int, n_edges: int, end: float, seed: int = 7
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Power-law receivers, milder power-law actors, times spread over the 90 days before `end`."""
    rng = np.random.default_rng(seed)
    receiver = (rng.pareto(1.1, n_edges) * 50).astype(np.int64) % n_people
    actor = (rng.pareto(2.0, n_edges) * n_people / 4).astype(np.int64) % n_people
    perm = rng.permutation(n_people)
    times = end - 1.0 - rng.random(n_edges) * 89 * DAY_S
    kinds = rng.integers(0, len(KINDS), n_edges)
    return perm[actor] + 1, perm[receiver] + 1, times, kinds


def edge_chunks(
    n_people: int, n_edges: int, end: float, seed: int = 7
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """The graph in slices of at most CHUNK edges, so a 100M-edge day never sits in memory.

    Up to CHUNK edges this is exactly `make_edges` (the figures stay comparable across versions);
    above, each slice draws from its own seeded generator with one shared person permutation.
    """
    if n_edges <= CHUNK:
        yield make_edges(n_people, n_edges, end, seed)
        return
    perm = np.random.default_rng([seed, 0]).permutation(n_people)
    for c, first in enumerate(range(0, n_edges, CHUNK)):
        size = min(CHUNK, n_edges - first)
        rng = np.random.default_rng([seed, c + 1])
        receiver = (rng.pareto(1.1, size) * 50).astype(np.int64) % n_people
        actor = (rng.pareto(2.0, size) * n_people / 4).astype(np.int64) % n_people
        times = end - 1.0 - rng.random(size) * 89 * DAY_S
        kinds = rng.integers(0, len(KINDS), size)
        yield perm[actor] + 1, perm[receiver] + 1, times, kinds


def ensure_database(base_url: str, name: str) -> str:
    """Create the bench database if it is missing; return its URL."""
    import psycopg

    admin = base_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return base_url.rsplit("/", 1)[0] + "/" + name


def _fill(cursor: object, table: str, given: list[str]) -> list[tuple[str, str]]:
    """NOT NULL columns of `table` the bench does not set, with a value of the right type."""
    cursor.execute(  # type: ignore[attr-defined]
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = %s AND is_nullable = 'NO'",
        [table],
    )
    blank = {"jsonb": "{}", "boolean": "f", "timestamp with time zone": "2026-01-01 00:00+00"}
    return [
        (name, blank.get(kind, "0" if kind in ("integer", "bigint", "double precision") else ""))
        for name, kind in cursor.fetchall()  # type: ignore[attr-defined]
        if name not in given
    ]


def copy_rows(cursor: object, table: str, columns: list[str], lines: Iterable[str]) -> None:
    """COPY tab-separated text lines into `table` through the psycopg cursor under Django's."""
    raw = cursor.cursor  # type: ignore[attr-defined]
    with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        batch: list[str] = []
        for line in lines:
            batch.append(line)
            if len(batch) >= 100_000:
                copy.write("".join(batch))
                batch.clear()
        if batch:
            copy.write("".join(batch))


def _stamps(times: np.ndarray) -> list[str]:
    """Unix seconds as PostgreSQL timestamptz text (UTC), vectorised."""
    micros = np.rint(times * 1e6).astype(np.int64)
    text = np.datetime_as_string(micros.astype("datetime64[us]"), unit="us")
    return [t + "+00" for t in text.tolist()]


def _secondary_indexes(
    cursor: object, table: str
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(name, CREATE INDEX) of plain indexes and (name, definition) of unique constraints."""
    cursor.execute(  # type: ignore[attr-defined]
        "SELECT indexname, indexdef FROM pg_indexes i WHERE tablename = %s AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        [table],
    )
    indexes = list(cursor.fetchall())  # type: ignore[attr-defined]
    cursor.execute(  # type: ignore[attr-defined]
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'u'",
        [table],
    )
    return indexes, list(cursor.fetchall())  # type: ignore[attr-defined]


def load(n_people: int, n_edges: int, day: dt.date) -> dict[str, float]:
    """Replace the bench store with a generated graph via COPY; return timings.

    Above one chunk the interaction table's secondary indexes are dropped for the COPY and built
    again after it (one sort each instead of 100M random descents): only the bench loads this way.
    """
    from django.db import connection

    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC).timestamp()
    gen_s = 0.0
    t0 = time.perf_counter()
    table = "networks_interaction"
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE scoring_latestscore, scoring_explanation, scoring_dailyscore, "
            "scoring_scoringrun, scoring_algorithmversion, networks_interaction, networks_post, "
            "networks_networkaccount RESTART IDENTITY CASCADE"
        )
        given = ["id", "network", "external_id", "handle"]
        extra = _fill(cursor, "networks_networkaccount", given)
        suffix = "".join("\t" + value for _name, value in extra)
        copy_rows(
            cursor,
            "networks_networkaccount",
            given + [n for n, _v in extra],
            (f"{i}\tdev\t{i}\tp{i}{suffix}\n" for i in range(1, n_people + 1)),
        )
        indexes, uniques = _secondary_indexes(cursor, table)
        rebuild = n_edges > CHUNK
        if rebuild:
            for name, _definition in uniques:
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            for name, _definition in indexes:
                cursor.execute(f"DROP INDEX {name}")
        columns = ["network", "actor_id", "receiver_id", "kind", "occurred_at", "source_key"]
        first = 0
        for actor, receiver, times, kinds in edge_chunks(n_people, n_edges, end):
            g0 = time.perf_counter()
            lines = [
                f"dev\t{a}\t{r}\t{KINDS[k]}\t{s}\tb{i}\n"
                for i, a, r, k, s in zip(
                    range(first, first + actor.shape[0]),
                    actor.tolist(),
                    receiver.tolist(),
                    kinds.tolist(),
                    _stamps(times),
                    strict=True,
                )
            ]
            gen_s += time.perf_counter() - g0
            first += actor.shape[0]
            del actor, receiver, times, kinds
            copy_rows(cursor, table, columns, lines)
            del lines
            if rebuild:
                print(f"  loaded {first:,} / {n_edges:,} interactions", flush=True)
        if rebuild:
            cursor.execute("SET maintenance_work_mem = '1GB'")
            for _name, definition in indexes:
                # A partitioned table's definitions say ON ONLY; rebuild on every partition.
                cursor.execute(definition.replace(" ON ONLY ", " ON "))
            for name, definition in uniques:
                cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
        cursor.execute("SELECT setval('networks_networkaccount_id_seq', %s)", [n_people])
        cursor.execute(f"ANALYZE {table}")
        cursor.execute("ANALYZE networks_networkaccount")
    return {
        "generate_s": round(gen_s, 3),
        "load_copy_s": round(time.perf_counter() - t0 - gen_s, 3),
    }


def loaded(n_people: int, n_edges: int) -> bool:
    """Whether the bench store already holds this size (for --reuse) and no scores yet."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM networks_networkaccount), "
            "(SELECT count(*) FROM networks_interaction)"
        )
        people, edges = cursor.fetchone()
    return (people, edges) == (n_people, n_edges)


def clear_scores() -> None:
    """Forget every run, so a reused store is scored from scratch."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE scoring_latestscore, scoring_explanation, scoring_dailyscore, "
            "scoring_scoringrun, scoring_algorithmversion RESTART IDENTITY CASCADE"
        )


class Clock:
    """Wall time of the run's transaction, its publish and the tasks a publish sets off."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, owner: object, name: str, key: str) -> None:
        inner = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds[key] = self.seconds.get(key, 0.0) + time.perf_counter() - t0

        setattr(owner, name, timed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--large", action="store_true", help="1M people / 10M interactions")
    parser.add_argument("--huge", action="store_true", help="10M people / 100M interactions")
    parser.add_argument("--people", type=int, default=None)
    parser.add_argument("--interactions", type=int, default=None)
    parser.add_argument("--database", default=BENCH_DB, help="bench database name")
    parser.add_argument("--load-only", action="store_true", help="load the store, score nothing")
    parser.add_argument(
        "--reuse", action="store_true", help="keep a store of this size loaded before"
    )
    parser.add_argument("--json", default=str(REPO / "var" / "bench" / "score_db.json"))
    args = parser.parse_args()
    n_people = args.people or (10_000_000 if args.huge else 1_000_000 if args.large else 200_000)
    n_edges = args.interactions or (
        100_000_000 if args.huge else 10_000_000 if args.large else 2_000_000
    )

    base = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    os.environ["DATABASE_URL"] = ensure_database(base, args.database)
    os.environ.pop("REDIS_URL", None)  # the bench measures the database path, not Redis
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klout.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from scoring import services, signals
    from scoring.models import ScoringRun

    call_command("migrate", verbosity=0)
    day = dt.date(2026, 11, 1)
    figures: dict[str, float] = {"people": n_people, "interactions": n_edges}
    if args.reuse and loaded(n_people, n_edges):
        clear_scores()
        print(f"reusing the loaded {n_people:,} people / {n_edges:,} interactions")
    else:
        figures.update(load(n_people, n_edges, day))
        print(f"loaded {n_people:,} people / {n_edges:,} interactions via COPY: {figures}")
    if args.load_only:
        return

    clock = Clock()
    clock.wrap(services, "_compute_run", "compute_txn_s")
    clock.wrap(services, "publish_run", "publish_txn_s")
    clock.wrap(signals.day_published, "send", "after_publish_tasks_s")
    t0 = time.perf_counter()
    run = services.compute_day(day=day)
    total = time.perf_counter() - t0
    run = ScoringRun.objects.get(pk=run.pk)
    stats = run.stats
    step = {k: float(stats.get(k, 0.0)) for k in ("collect_s", "engine_s", "write_s")}
    parts = {k: float(stats.get(k, 0.0)) for k in ("topics_s", "figures_s")}
    # The run's transaction: collect, engine, the writes, then COMMIT (deferred checks fire).
    commit_s = clock.seconds["compute_txn_s"] - sum(step.values()) - sum(parts.values())
    tasks_s = clock.seconds.get("after_publish_tasks_s", 0.0)
    scores = float(stats.get("accounts", 0) + stats.get("users", 0))
    figures.update(
        {
            "scores_written": scores,
            "collect_s": round(step["collect_s"], 3),
            "engine_s": round(step["engine_s"], 3),
            "write_s": round(step["write_s"] + sum(parts.values()) + commit_s, 3),
            "write_scores_s": round(step["write_s"], 3),
            "write_topics_s": round(parts["topics_s"], 3),
            "write_figures_s": round(parts["figures_s"], 3),
            "write_commit_s": round(commit_s, 3),
            "publish_s": round(clock.seconds["publish_txn_s"] - tasks_s, 3),
            "after_publish_tasks_s": round(tasks_s, 3),
            "compute_day_total_s": round(total, 3),
        }
    )
    run_s = sum(figures[f"{k}_s"] for k in ("collect", "engine", "write", "publish"))
    for stage in ("collect", "engine", "write", "publish"):
        seconds = max(figures[f"{stage}_s"], 1e-9)
        figures[f"{stage}_scores_per_s"] = round(scores / seconds)
    figures["collect_events_per_s"] = round(n_edges / max(figures["collect_s"], 1e-9))
    figures["end_to_end_s"] = round(run_s, 3)
    figures["end_to_end_events_per_s"] = round(n_edges / run_s)
    figures["with_tasks_events_per_s"] = round(n_edges / total)
    figures["peak_rss_mb"] = round(peak_rss_mb(), 1)
    for name, value in figures.items():
        print(f"{name:32s} {value:>14,}")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
