"""Benchmark: import a generated 200 MB Mastodon outbox.json the way an upload runs it.

The outbox (one owner, `BENCH_UPLOAD_MB` MB of Create/Announce activities with mentions and
replies to a few thousand other accounts) is generated once into var/bench/ and reused. Two
figures matter:
- `parse`: the streaming JSON parser alone (ijson events -> elements), its time and peak RSS,
  in its own process: the parser must be linear in time and flat in memory;
- `import`: start_import + run_import for the owner's account, as the upload page queues it,
  into PostgreSQL database `klout_bench_upload` (created if missing, migrated, emptied first) or,
  with BENCH_UPLOAD_DB=sqlite, a temporary SQLite file.

Prints the figures; writes var/bench/upload.json (flat, units in the names).
Environment: BENCH_PG (server URL, no database), BENCH_UPLOAD_MB (default 200).
"""

from __future__ import annotations

import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import create_database  # noqa: E402

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "klout_bench_upload"
TARGET_MB = int(os.environ.get("BENCH_UPLOAD_MB", "200"))
OUT = ROOT / "var" / "bench" / "upload.json"
OUTBOX = ROOT / "var" / "bench" / f"outbox-{TARGET_MB}mb.json"
OWNER = "https://bench.example/users/owner"
PEOPLE = 5_000


def peak_rss_mb() -> float:
    """This process's peak resident memory."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate() -> int:
    """Write the outbox (unless it is there already); return its number of activities."""
    meta = OUTBOX.with_suffix(".count")
    if OUTBOX.exists() and meta.exists():
        return int(meta.read_text())
    OUTBOX.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(12)
    target = TARGET_MB * 1024 * 1024
    count = 0
    partial = OUTBOX.with_suffix(".part")
    with partial.open("w", encoding="utf-8") as out:
        out.write(
            '{"@context": "https://www.w3.org/ns/activitystreams", "id": "outbox.json", '
            '"type": "OrderedCollection", "orderedItems": [\n'
        )
        while out.tell() < target:
            count += 1
            day = 1 + count % 28
            published = f"2024-{1 + count % 12:02d}-{day:02d}T{count % 24:02d}:00:00Z"
            other = f"https://peer{rng.randrange(50)}.example/users/p{rng.randrange(PEOPLE)}"
            status = f"{OWNER}/statuses/{count}"
            if count % 5 == 0:
                activity: dict[str, object] = {
                    "id": f"{status}/activity",
                    "type": "Announce",
                    "actor": OWNER,
                    "published": published,
                    "object": f"{other}/statuses/{rng.randrange(10**9)}",
                }
            else:
                mention = f"https://peer{rng.randrange(50)}.example/users/p{rng.randrange(PEOPLE)}"
                activity = {
                    "id": f"{status}/activity",
                    "type": "Create",
                    "actor": OWNER,
                    "published": published,
                    "to": ["https://www.w3.org/ns/activitystreams#Public"],
                    "object": {
                        "id": status,
                        "type": "Note",
                        "inReplyTo": f"{other}/statuses/{rng.randrange(10**9)}"
                        if count % 3 == 0
                        else None,
                        "published": published,
                        "content": "<p>" + "words " * rng.randrange(20, 200) + "</p>",
                        "tag": [
                            {"type": "Mention", "href": mention, "name": "@someone"},
                            {"type": "Hashtag", "name": f"#topic{count % 40}"},
                        ],
                    },
                }
            if count > 1:
                out.write(",\n")
            out.write(json.dumps(activity))
        out.write("\n]}\n")
    partial.replace(OUTBOX)
    meta.write_text(str(count))
    return count


def phase_parse() -> dict[str, float]:
    """The streaming parser alone, over the whole file."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klout.settings")
    import django

    django.setup()
    from networks.importers.base import iter_json_array

    started = time.perf_counter()
    with OUTBOX.open("rb") as stream:
        items = sum(1 for _ in iter_json_array(stream, key="orderedItems"))
    return {
        "seconds": time.perf_counter() - started,
        "items": items,
        "peak_rss_mb": peak_rss_mb(),
    }


def phase_import() -> dict[str, float]:
    """start_import + run_import for the owner's linked account, as the upload page runs it."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klout.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from networks.models import Interaction, NetworkAccount, Post, SyncRun
    from networks.services import run_import, start_import

    tables = [m._meta.db_table for m in (Interaction, Post, SyncRun, NetworkAccount)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")
    NetworkAccount.objects.create(network="mastodon", external_id=OWNER, handle="owner")
    started = time.perf_counter()
    run = start_import(format="mastodon", path=str(OUTBOX), network="mastodon", account=OWNER)
    run = run_import(sync_run_id=run.pk)
    return {
        "seconds": time.perf_counter() - started,
        "interactions": run.inserted_count,
        "rejected": run.rejected_count,
        "posts": Post.objects.count(),
        "peak_rss_mb": peak_rss_mb(),
    }


def run_phase(phase: str, database_url: str | None = None) -> dict[str, float]:
    env = dict(os.environ)
    if database_url:
        env["DATABASE_URL"] = database_url
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, __file__, "--phase", phase],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    figures: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    started = time.perf_counter()
    activities = generate()
    size_mb = OUTBOX.stat().st_size / (1024 * 1024)
    generated = time.perf_counter() - started
    print(f"outbox: {size_mb:.0f} MB, {activities:,} activities ({generated:.1f} s)")
    parse = run_phase("parse")
    print(f"parse: {parse['seconds']:.1f} s, peak RSS {parse['peak_rss_mb']:.0f} MB")
    with tempfile.TemporaryDirectory() as tmp:
        if os.environ.get("BENCH_UPLOAD_DB") == "sqlite":
            database = "sqlite"
            url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        else:
            database = "postgresql"
            create_database(PG, DB_NAME)
            url = f"{PG}/{DB_NAME}"
        imported = run_phase("import", url)
    print(
        f"import ({database}): {imported['seconds']:.1f} s, {imported['interactions']:,.0f} "
        f"interactions, peak RSS {imported['peak_rss_mb']:.0f} MB"
    )
    figures = {
        "outbox_mb": round(size_mb, 1),
        "activities": activities,
        "parse_seconds": round(parse["seconds"], 2),
        "parse_mb_per_s": round(size_mb / parse["seconds"], 1),
        "parse_peak_rss_mb": round(parse["peak_rss_mb"], 1),
        "import_seconds": round(imported["seconds"], 2),
        "import_mb_per_s": round(size_mb / imported["seconds"], 1),
        "import_interactions": imported["interactions"],
        "import_rejected": imported["rejected"],
        "import_peak_rss_mb": round(imported["peak_rss_mb"], 1),
        "import_on_postgresql": 1 if database == "postgresql" else 0,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--phase":
        phase = phase_parse if sys.argv[2] == "parse" else phase_import
        print(json.dumps(phase()))
    else:
        main()
