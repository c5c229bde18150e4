"""Benchmark: import the full Higgs activity file (563,069 events) into PostgreSQL and SQLite.

Three phases, each in its own process (its own Django setup, database and peak RSS):
- `pg_copy`: `import_dataset higgs` into PostgreSQL database `klout_bench` (created if missing,
  migrated, emptied first): the product path, here columnar blocks bulk-loaded by binary COPY
  into a new month's load table, accounts on a helper connection, indexes built at the attach;
- `sqlite`: the same import into a temporary SQLite file (executemany staging, same merge);
- `pg_copy` also times the machine's floor: a bare COPY of the same rows (ids resolved) into an
  index-less table, the least any import must spend;
- `pg_bulk_create`: the baseline, plain Django `bulk_create(ignore_conflicts=True)` per batch,
  accounts first, then their ids fetched back, then the interactions.

Every phase starts from an emptied store and, on PostgreSQL, a CHECKPOINT: otherwise the previous
run's dirty pages are written back during the next one, and which run pays is chance.

Prints events/s and peak RSS per phase; writes var/bench/ingest.json (flat, units in the names).
Environment: BENCH_PG (server URL, no database), BENCH_BATCH (rows per batch, default 100,000),
BENCH_REPEAT (runs of the PostgreSQL import; the median counts, default 3).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import create_database  # noqa: E402

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "klout_bench"
BATCH = int(os.environ.get("BENCH_BATCH", "100000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
OUT = ROOT / "var" / "bench" / "ingest.json"
EVENTS = 563_069


def peak_rss_mb() -> float:
    """This process's peak resident memory."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klout.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import DatabaseError, connection

    from networks.models import Interaction, NetworkAccount, Post, SyncRun

    # Start empty every time: the figures are for a first import of the whole file. On
    # PostgreSQL TRUNCATE, not DELETE: a DELETE leaves the previous phase's dead rows and bloated
    # indexes behind, and the next phase would be measured against them.
    tables = [m._meta.db_table for m in (Interaction, Post, SyncRun, NetworkAccount)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
            # Every run starts from a clean checkpoint: otherwise the previous run's dirty pages
            # and WAL are written back during this one, and which run pays for them is chance.
            with suppress(DatabaseError):
                cursor.execute("CHECKPOINT")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")


def higgs_path() -> Path:
    from django.conf import settings

    return Path(settings.SHARED_DATA_DIR) / "higgs-twitter" / "higgs-activity_time.txt.gz"


def phase_import() -> dict[str, float]:
    """The product path: start_import + run_import, as `manage.py import_dataset` runs it."""
    setup_django()
    from networks.services import run_import, start_import

    started = time.perf_counter()
    run = start_import(format="higgs", path=str(higgs_path()))
    run = run_import(sync_run_id=run.pk, batch_size=BATCH)
    elapsed = time.perf_counter() - started
    assert run.inserted_count == EVENTS, run.inserted_count
    figures = {"seconds": elapsed, "events": run.inserted_count, "peak_rss_mb": peak_rss_mb()}
    from django.db import connection

    if connection.vendor == "postgresql":
        figures["floor_seconds"] = copy_floor()
    return figures


def copy_floor() -> float:
    """The machine's floor: COPY the stored rows (ids resolved, text ready) into a bare table.

    No parsing, no accounts, no index, no conflict check: what any import into this PostgreSQL
    must at least spend writing the rows. Measured in the same process after the import.
    """
    from django.db import connection

    columns = "network, kind, occurred_at, source_key, actor_id, receiver_id"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM networks_interaction")
        lines = [
            f"{n}\t{k}\t{t.isoformat(' ')}\t{s}\t{a}\t{r}\n"
            for n, k, t, s, a, r in cursor.fetchall()
        ]
        cursor.execute("DROP TABLE IF EXISTS bench_copy_floor")
        cursor.execute(
            "CREATE TABLE bench_copy_floor (network text, kind text,"
            " occurred_at timestamptz, source_key text, actor_id bigint, receiver_id bigint)"
        )
        started = time.perf_counter()
        with cursor.cursor.copy(f"COPY bench_copy_floor ({columns}) FROM STDIN") as copy:
            for i in range(0, len(lines), 50_000):
                copy.write("".join(lines[i : i + 50_000]))
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_copy_floor")
    return elapsed


def phase_bulk_create() -> dict[str, float]:
    """The baseline: what plain Django ORM code would do."""
    setup_django()
    from networks.models import Interaction, NetworkAccount

    kinds = {"RT": "share", "MT": "mention", "RE": "reply"}
    started = time.perf_counter()
    rows: list[tuple[str, str, str, dt.datetime, str]] = []

    def flush() -> None:
        ids = {r[0] for r in rows} | {r[1] for r in rows}
        NetworkAccount.objects.bulk_create(
            [NetworkAccount(network="higgs", external_id=i) for i in ids],
            ignore_conflicts=True,
            batch_size=5000,
        )
        by_id: dict[str, int] = {}
        id_list = list(ids)
        for i in range(0, len(id_list), 5000):
            by_id.update(
                NetworkAccount.objects.filter(
                    network="higgs", external_id__in=id_list[i : i + 5000]
                ).values_list("external_id", "pk")
            )
        Interaction.objects.bulk_create(
            [
                Interaction(
                    network="higgs",
                    actor_id=by_id[a],
                    receiver_id=by_id[b],
                    kind=k,
                    occurred_at=when,
                    source_key=key,
                )
                for a, b, k, when, key in rows
            ],
            ignore_conflicts=True,
            batch_size=5000,
        )
        rows.clear()

    with gzip.open(higgs_path(), "rt") as handle:
        for line in handle:
            a, b, ts, t = line.split()
            when = dt.datetime.fromtimestamp(int(ts), dt.UTC)
            rows.append((a, b, kinds[t], when, f"{a}>{b}@{ts}:{t}"))
            if len(rows) >= BATCH:
                flush()
    flush()
    elapsed = time.perf_counter() - started
    count = Interaction.objects.count()
    assert count == EVENTS, count
    return {"seconds": elapsed, "events": count, "peak_rss_mb": peak_rss_mb()}


def run_phase(name: str, database_url: str) -> dict[str, float]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "klout.settings",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, __file__, "--phase", name],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    rate = result["events"] / result["seconds"]
    print(
        f"{name:>15}: {result['events']:,.0f} events in {result['seconds']:.1f}s = "
        f"{rate:,.0f} events/s, peak RSS {result['peak_rss_mb']:.0f} MB"
    )
    return result


def main() -> None:
    create_database(PG, DB_NAME)
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        pg_url = f"{PG}/{DB_NAME}"
        # This machine's speed drifts by a quarter between runs: the product path runs REPEAT
        # times and the median run counts (all of them are printed and kept in the JSON).
        runs = sorted(
            (run_phase("pg_copy", pg_url) for _ in range(REPEAT)), key=lambda r: r["seconds"]
        )
        pg = runs[len(runs) // 2]
        sqlite = run_phase("sqlite", sqlite_url)
        bulk = run_phase("pg_bulk_create", pg_url)
    pg_rate = pg["events"] / pg["seconds"]
    bulk_rate = bulk["events"] / bulk["seconds"]
    figures = {
        "events": EVENTS,
        "batch_rows": BATCH,
        "pg_copy_events_per_s": round(pg_rate),
        "pg_copy_runs": REPEAT,
        "pg_copy_best_events_per_s": round(EVENTS / runs[0]["seconds"]),
        "pg_copy_worst_events_per_s": round(EVENTS / runs[-1]["seconds"]),
        "pg_copy_seconds": round(pg["seconds"], 2),
        "pg_copy_peak_rss_mb": round(pg["peak_rss_mb"], 1),
        "sqlite_events_per_s": round(sqlite["events"] / sqlite["seconds"]),
        "sqlite_seconds": round(sqlite["seconds"], 2),
        "sqlite_peak_rss_mb": round(sqlite["peak_rss_mb"], 1),
        "pg_bulk_create_events_per_s": round(bulk_rate),
        "pg_bulk_create_seconds": round(bulk["seconds"], 2),
        "pg_bulk_create_peak_rss_mb": round(bulk["peak_rss_mb"], 1),
        "ratio_vs_baseline": round(pg_rate / bulk_rate, 2),
        "pg_copy_floor_events_per_s": round(EVENTS / pg["floor_seconds"]),
        "pg_copy_share_of_floor": round(pg_rate / (EVENTS / pg["floor_seconds"]), 3),
        "peak_rss_mb": round(max(pg["peak_rss_mb"], sqlite["peak_rss_mb"]), 1),
        "target_pg_events_per_s": 150_000,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(figures, indent=2) + "\n")
    print(
        f"machine floor (bare COPY of the same rows, no index): "
        f"{figures['pg_copy_floor_events_per_s']:,} events/s; the import runs at "
        f"{figures['pg_copy_share_of_floor']:.0%} of it"
    )
    print(f"ratio vs bulk_create: {figures['ratio_vs_baseline']}x; wrote {OUT}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--phase":
        phase = phase_bulk_create if sys.argv[2] == "pg_bulk_create" else phase_import
        print(json.dumps(phase()))
    else:
        main()
