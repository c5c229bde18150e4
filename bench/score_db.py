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
import io
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
BENCH_DB = "klout_bench_score"
DAY_S = 86400.0
KINDS = ("share", "reply", "mention", "like")


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


def ensure_database(base_url: str) -> str:
    """Create the bench database if it is missing; return its URL."""
    import psycopg

    admin = base_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    return base_url.rsplit("/", 1)[0] + "/" + BENCH_DB


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


def copy_rows(cursor: object, table: str, columns: list[str], lines: io.StringIO) -> None:
    """COPY tab-separated text into `table` through the psycopg cursor under Django's."""
    raw = cursor.cursor  # type: ignore[attr-defined]
    lines.seek(0)
    with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        while chunk := lines.read(1 << 20):
            copy.write(chunk)


def load(n_people: int, n_edges: int, day: dt.date) -> dict[str, float]:
    """Replace the bench store with a generated graph via COPY; return timings."""
    from django.db import connection

    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC).timestamp()
    t0 = time.perf_counter()
    actor, receiver, times, kinds = make_edges(n_people, n_edges, end)
    gen_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE scoring_latestscore, scoring_explanation, scoring_dailyscore, "
            "scoring_scoringrun, scoring_algorithmversion, networks_interaction, networks_post, "
            "networks_networkaccount RESTART IDENTITY CASCADE"
        )
        given = ["id", "network", "external_id", "handle"]
        extra = _fill(cursor, "networks_networkaccount", given)
        suffix = "".join("\t" + value for _name, value in extra)
        buf = io.StringIO()
        buf.writelines(f"{i}\tdev\t{i}\tp{i}{suffix}\n" for i in range(1, n_people + 1))
        copy_rows(cursor, "networks_networkaccount", given + [n for n, _v in extra], buf)
        stamps = [
            dt.datetime.fromtimestamp(float(t), tz=dt.UTC).isoformat() for t in times.tolist()
        ]
        buf = io.StringIO()
        buf.writelines(
            f"dev\t{a}\t{r}\t{KINDS[k]}\t{s}\tb{i}\n"
            for i, (a, r, k, s) in enumerate(
                zip(actor.tolist(), receiver.tolist(), kinds.tolist(), stamps, strict=True)
            )
        )
        del stamps
        copy_rows(
            cursor,
            "networks_interaction",
            ["network", "actor_id", "receiver_id", "kind", "occurred_at", "source_key"],
            buf,
        )
        del buf
        cursor.execute("SELECT setval('networks_networkaccount_id_seq', %s)", [n_people])
        cursor.execute("ANALYZE networks_interaction")
        cursor.execute("ANALYZE networks_networkaccount")
    return {"generate_s": round(gen_s, 3), "load_copy_s": round(time.perf_counter() - t0, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--large", action="store_true", help="1M people / 10M interactions")
    parser.add_argument("--huge", action="store_true", help="10M people / 100M interactions")
    parser.add_argument("--people", type=int, default=None)
    parser.add_argument("--interactions", type=int, default=None)
    parser.add_argument("--json", default=str(REPO / "var" / "bench" / "score_db.json"))
    args = parser.parse_args()
    n_people = args.people or (10_000_000 if args.huge else 1_000_000 if args.large else 200_000)
    n_edges = args.interactions or (
        100_000_000 if args.huge else 10_000_000 if args.large else 2_000_000
    )

    base = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    os.environ["DATABASE_URL"] = ensure_database(base)
    os.environ.pop("REDIS_URL", None)  # the bench measures the database path, not Redis
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klout.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from scoring.collect import collect_window
    from scoring.models import ScoringRun
    from scoring.services import compute_day

    call_command("migrate", verbosity=0)
    day = dt.date(2026, 11, 1)
    figures: dict[str, float] = {"people": n_people, "interactions": n_edges}
    figures.update(load(n_people, n_edges, day))
    print(f"loaded {n_people:,} people / {n_edges:,} interactions via COPY: {figures}")

    t0 = time.perf_counter()
    window = collect_window(day=day)
    figures["collect_only_s"] = round(time.perf_counter() - t0, 3)
    figures["collect_events_per_s"] = round(len(window.interactions) / figures["collect_only_s"])
    del window

    t0 = time.perf_counter()
    run = compute_day(day=day)
    figures["compute_day_total_s"] = round(time.perf_counter() - t0, 3)
    run = ScoringRun.objects.get(pk=run.pk)
    for key in ("collect_s", "engine_s", "write_s"):
        figures[f"compute_day_{key}"] = float(run.stats.get(key, 0.0))
    figures["publish_s"] = round(
        figures["compute_day_total_s"]
        - sum(figures[f"compute_day_{k}"] for k in ("collect_s", "engine_s", "write_s")),
        3,
    )
    figures["scores_written"] = float(run.stats.get("accounts", 0) + run.stats.get("users", 0))
    for stage in ("write", "publish"):
        seconds = figures[f"compute_day_{stage}_s" if stage == "write" else "publish_s"]
        figures[f"{stage}_scores_per_s"] = round(figures["scores_written"] / max(seconds, 1e-9))
    figures["end_to_end_events_per_s"] = round(n_edges / figures["compute_day_total_s"])
    figures["peak_rss_mb"] = round(peak_rss_mb(), 1)
    for name, value in figures.items():
        print(f"{name:32s} {value:>14,}")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
