"""Benchmark achievements and notifications for a million people after a published day.

Loads (COPY) into the PostgreSQL database ``klout_bench_achievements``: N people (default 1M), each
with one or two linked accounts, two published days of scores, the scoring run's PersonFigures for
both days (power-law counts), one explanation per person and a tenth of people with their own
notification threshold. Then, each in a fresh process so its peak RSS is its own:

- ``evaluate``: every rule for everyone after the published day (first evaluation: the most
  unlocks), then again (steady state: nothing new) — targets 30 s and 1 GB;
- ``notify``: the day's notifications for everyone built and stored — target 60 s.

Writes flat JSON to var/bench/achievements.json. The server comes from ``BENCH_DATABASE_URL``
(default ``postgres://postgres@127.0.0.1:5432/postgres``; only its host part is used).
``--reuse`` keeps the people, scores and figures already loaded for the same --people (loading
takes minutes) and only clears what the measured stages write (unlocks and notifications).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
BENCH_DB = "klout_bench_achievements"
DAY = dt.date(2026, 11, 1)
FIGURE_COLUMNS = (
    "run_id", "day", "user_id", "score", "actions_received", "mentioners",
    "mentioners_one_day", "top_post_sharers", "posts_shared",
    "top_moment_reactions", "top_network", "top_network_share", "top_post_kind",
    "top_post_kind_share", "top_hour", "top_hour_share", "top_influencee_id",
    "top_influencer_id", "new_high_actor_id", "new_high_actor_score",
)  # fmt: skip
TARGETS = {"evaluate_s": 30.0, "evaluate_peak_rss_mb": 1024.0, "notify_s": 60.0}


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def ensure_database(base_url: str) -> str:
    """Create the bench database if it is missing; return its URL."""
    import psycopg

    admin = base_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    return base_url.rsplit("/", 1)[0] + "/" + BENCH_DB


def setup_django() -> None:
    base = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    os.environ["DATABASE_URL"] = ensure_database(base)
    os.environ.pop("REDIS_URL", None)  # the bench measures the database path, not Redis
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klout.settings")
    import django

    django.setup()


def _fill(cursor: object, table: str, given: list[str]) -> list[tuple[str, str]]:
    """NOT NULL columns of `table` the bench does not set, with a value of the right type."""
    cursor.execute(  # type: ignore[attr-defined]
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL "
        "AND is_identity = 'NO'",
        [table],
    )
    blank = {"jsonb": "[]", "boolean": "f", "timestamp with time zone": "2026-01-01 00:00+00"}
    numeric = ("integer", "bigint", "double precision", "smallint")
    return [
        (name, blank.get(kind, "0" if kind in numeric else ""))
        for name, kind in cursor.fetchall()  # type: ignore[attr-defined]
        if name not in given
    ]


def copy_table(cursor: object, table: str, given: list[str], lines: list[str]) -> None:
    """COPY tab-separated `lines` (values of `given`) into `table`, blanks for other NOT NULLs."""
    extra = _fill(cursor, table, given)
    suffix = "".join("\t" + value for _name, value in extra)
    raw = cursor.cursor  # type: ignore[attr-defined]
    columns = ", ".join(given + [name for name, _v in extra])
    with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for start in range(0, len(lines), 100_000):
            buf = io.StringIO()
            buf.writelines(line + suffix + "\n" for line in lines[start : start + 100_000])
            copy.write(buf.getvalue())


def load(n: int) -> dict[str, float]:
    """Replace the bench data with n people, two published days, their figures."""
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    rng = np.random.default_rng(17)
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE achievements_unlock, accounts_notification, accounts_notificationpreference,"
            " scoring_personfigures, scoring_latestscore, scoring_explanation,"
            " scoring_dailyscore, scoring_scoringrun, scoring_algorithmversion,"
            " networks_networkaccount, accounts_user RESTART IDENTITY CASCADE"
        )
        ids = np.arange(1, n + 1)
        copy_table(
            cursor,
            "accounts_user",
            ["id", "email", "is_active", "date_joined"],
            [f"{i}\tu{i}@bench.example\tt\t2026-01-01 00:00+00" for i in ids.tolist()],
        )
        networks = ("dev", "mastodon", "bluesky")
        second = rng.random(n) < 0.3
        owners = np.concatenate([ids, ids[second]])
        nets = np.concatenate([np.zeros(n, np.int64), rng.integers(1, 3, int(second.sum()))])
        copy_table(
            cursor,
            "networks_networkaccount",
            ["id", "network", "external_id", "handle", "user_id"],
            [
                f"{k + 1}\t{networks[net]}\ta{k + 1}\tp{k + 1}\t{owner}"
                for k, (owner, net) in enumerate(zip(owners.tolist(), nets.tolist(), strict=True))
            ],
        )
        n_accounts = int(owners.shape[0])
        cursor.execute(
            "INSERT INTO scoring_algorithmversion (id, name, description, calibration, "
            "is_current, created_at) VALUES (1, 'bench', '', '{}', true, now())"
        )
        for run_id, day in ((1, DAY - dt.timedelta(days=1)), (2, DAY)):
            cursor.execute(
                "INSERT INTO scoring_scoringrun (id, day, version_id, status, held_reason, "
                "progress, stats, created_at) VALUES (%s, %s, 1, 'published', '', 1, '{}', now())",
                [run_id, day],
            )
        before = np.clip(rng.beta(2, 4, n) * 100, 1, 100)
        after = np.clip(before + rng.normal(0, 3, n), 1, 100)
        for run_id, day, scores in ((1, DAY - dt.timedelta(days=1), before), (2, DAY, after)):
            offset = (run_id - 1) * n
            copy_table(
                cursor,
                "scoring_dailyscore",
                ["id", "run_id", "version_id", "day", "user_id", "score", "raw"],
                [
                    f"{offset + i}\t{run_id}\t1\t{day}\t{i}\t{s:.3f}\t{s / 10:.3f}"
                    for i, s in zip(ids.tolist(), scores.tolist(), strict=True)
                ],
            )
            mentioners = (rng.pareto(1.2, n) * 3).astype(np.int64)
            sharers = (rng.pareto(1.5, n) * 2).astype(np.int64)
            moment = (rng.pareto(1.1, n) * 5).astype(np.int64)
            influencee = rng.integers(1, n_accounts + 1, n)
            high = np.where(rng.random(n) < 0.05, rng.integers(1, n_accounts + 1, n), -1)
            copy_table(
                cursor,
                "scoring_personfigures",
                list(FIGURE_COLUMNS),
                [
                    f"{run_id}\t{day}\t{i}\t{s:.2f}\t{m * 3 + 1}\t{m}\t{m // 3}\t{sh}\t{sh // 2}"
                    f"\t{mo}\tdev\t{60 + i % 40}\toriginal\t{50 + i % 50}\t{i % 24}\t{5 + i % 20}"
                    f"\t{ie}\t{ie}\t{'\\N' if h < 0 else h}\t{'\\N' if h < 0 else '80'}"
                    for i, s, m, sh, mo, ie, h in zip(
                        ids.tolist(),
                        scores.tolist(),
                        mentioners.tolist(),
                        sharers.tolist(),
                        moment.tolist(),
                        influencee.tolist(),
                        high.tolist(),
                        strict=True,
                    )
                ],
            )
        copy_table(
            cursor,
            "scoring_explanation",
            ["score_id", "points", "kind", "text", "position"],
            [f"{n + i}\t1.5\treach\t{i % 17 + 2} new people shared your post\t0" for i in ids],
        )
        some = ids[rng.random(n) < 0.1]
        copy_table(
            cursor,
            "accounts_notificationpreference",
            ["user_id", "score_move_threshold", "in_app", "weekly_digest", "unsubscribe_token"],
            [f"{i}\t{1 + i % 5}\tt\tt\tbench{i}" for i in some.tolist()],
        )
        for table in (
            "accounts_user",
            "networks_networkaccount",
            "scoring_dailyscore",
            "scoring_personfigures",
            "scoring_explanation",
        ):
            cursor.execute(f"ANALYZE {table}")
        for table, top in (("accounts_user", n), ("networks_networkaccount", n_accounts)):
            cursor.execute(f"SELECT setval('{table}_id_seq', %s)", [top])
    return {"people": n, "accounts": n_accounts, "load_s": round(time.perf_counter() - t0, 1)}


def reuse(n: int) -> dict[str, float] | None:
    """Figures of an existing load of n people (its unlocks and notifications cleared), or None."""
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM accounts_user")
        people = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM scoring_personfigures WHERE run_id = 2")
        figures = cursor.fetchone()[0]
        if people != n or figures != n:
            return None
        cursor.execute("TRUNCATE achievements_unlock, accounts_notification")
        cursor.execute("SELECT COUNT(*) FROM networks_networkaccount")
        accounts = cursor.fetchone()[0]
        cursor.execute("VACUUM ANALYZE accounts_user")
    return {"people": n, "accounts": accounts}


def measure(stage: str) -> dict[str, float]:
    """One measured stage in this (fresh) process."""
    from django.db import connection

    from achievements.services import evaluate_achievements, notify_day

    out: dict[str, float] = {}
    if stage == "evaluate":
        first = evaluate_achievements(run_id=2)
        out["evaluate_s"] = round(first.seconds, 2)
        out["evaluate_unlocks"] = first.unlocked
        again = evaluate_achievements(run_id=2)
        out["evaluate_again_s"] = round(again.seconds, 2)
        out["evaluate_again_unlocks"] = again.unlocked
        out["evaluate_people_per_s"] = round(first.people / max(first.seconds, 1e-9))
        out["evaluate_peak_rss_mb"] = round(peak_rss_mb(), 1)
    else:
        t0 = time.perf_counter()
        made = notify_day(run_id=2)
        out["notify_s"] = round(time.perf_counter() - t0, 2)
        out["notifications"] = made
        t0 = time.perf_counter()
        out["notify_again_new"] = notify_day(run_id=2)
        out["notify_again_s"] = round(time.perf_counter() - t0, 2)
        out["notify_peak_rss_mb"] = round(peak_rss_mb(), 1)
        with connection.cursor() as cursor:
            cursor.execute("SELECT kind, COUNT(*) FROM accounts_notification GROUP BY kind")
            for kind, count in cursor.fetchall():
                out[f"notifications_{kind}"] = count
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--stage", choices=["evaluate", "notify"], default=None)
    parser.add_argument("--json", default=str(REPO / "var" / "bench" / "achievements.json"))
    parser.add_argument("--reuse", action="store_true", help="keep an existing load of --people")
    args = parser.parse_args()
    setup_django()
    if args.stage:
        print(json.dumps(measure(args.stage)))
        return
    figures: dict[str, float] = {}
    kept = reuse(args.people) if args.reuse else None
    figures.update(kept if kept is not None else load(args.people))
    print(f"loaded: {figures}", flush=True)
    for stage in ("evaluate", "notify"):
        done = subprocess.run(
            [sys.executable, __file__, "--stage", stage],
            check=True,
            capture_output=True,
            text=True,
        )
        figures.update(json.loads(done.stdout.strip().splitlines()[-1]))
    for name, target in TARGETS.items():
        figures[f"{name}_target"] = target
    for name, value in figures.items():
        print(f"{name:32s} {value:>14,}")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
