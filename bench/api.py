"""Benchmark: the public API's single and bulk lookups under gunicorn, against a bare view.

Sets up database `klout_bench_api` (created if missing, migrated) with 100,000 scored subjects
(accounts, a published day and the one five days before, read-model rows and kloutIds, written in
a few INSERT ... SELECT statements; skipped when already there), primes the API's cached answers
as publishing does, and serves the project with gunicorn on port 18005 (production settings:
DJANGO_DEBUG=0, PostgreSQL, Redis as the cache; only DJANGO_SECURE_SSL_REDIRECT=0 for plain http
on loopback). Load comes from `wrk` (apt-get install wrk) over keep-alive connections, each
request naming a random subject; quota accounting is on (a key with quotas high enough never to
refuse).

Server model: gunicorn's gthread worker, 2 processes (one per core) of 4 threads each, for every
figure. Threads let a worker run one request while another waits on its Redis round trip, and the
sync worker would close every keep-alive connection after one request (other shapes were not
measured). The bare view runs on the same server, so the ratios compare the request paths, not
the server.

Measured in the same run: a bare Django JSON view (`/livez`, same middleware), the legacy
`/v2/user.json/{kloutId}`, the modern `/api/v1/subjects/{kloutId}` and bulk lookups of 100
(`/api/v1/subjects?ids=...`); the three lookups take the API's WSGI hot path
(`scoring/api/hot_path.py`). Prints the figures, the ratios against the bare view and the
settings note, and writes var/bench/api.json (flat, numbers only, units in the names).
Before the first measurement, BENCH_WARM_UP_SECONDS (default 3) of untimed load on each of the
four paths, so that both gunicorn workers have booted and every thread holds its connections;
each measurement then has its own 2 s warm-up as well.
Environment: BENCH_PG (server URL, no database), BENCH_REDIS (a Redis database the bench may
flush), BENCH_SECONDS (per measurement), BENCH_CONNECTIONS, BENCH_WARM_UP_SECONDS.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import create_database, manage, production_env  # noqa: E402

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "klout_bench_api"
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/13")
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
WARM_UP_SECONDS = int(os.environ.get("BENCH_WARM_UP_SECONDS", "3"))  # per path, untimed
PORT = 18005
SUBJECTS = 100_000
WORKERS = 2
THREADS = 4
SAMPLE = 5_000  # kloutIds the load generator picks from at random
OUT = ROOT / "var" / "bench" / "api.json"
SETTINGS_NOTE = (
    "production settings (DJANGO_DEBUG=0, Redis cache, PostgreSQL), "
    "except DJANGO_SECURE_SSL_REDIRECT=0: plain http on loopback"
)


def server_env() -> dict[str, str]:
    env = production_env(database_url=f"{PG}/{DB_NAME}", redis_url=REDIS, var_name="api-var")
    env["DJANGO_LOG_LEVEL"] = "ERROR"
    return env


SEED_SQL = [
    # 100k X accounts (the other columns take their database defaults)
    """
    INSERT INTO networks_networkaccount (network, external_id, handle, display_name, created_at)
    SELECT 'x', (1000000 + g)::text, 'bench' || g, 'Bench ' || g, now()
    FROM generate_series(1, %(n)s) g
    ON CONFLICT DO NOTHING
    """,
    # a day and the one five days before, both scored for everyone
    """
    INSERT INTO scoring_dailyscore (run_id, version_id, day, account_id, score, raw, true_reach,
        amplification, network_score, style, style_reasons, network_contributions, influencers,
        influencees, moments, influencers_count, influencees_count)
    SELECT r.id, r.version_id, r.day, a.id,
           1 + ((a.id * 7919 + r.id) %% 9900) / 100.0, 1.0, (a.id %% 5000)::float,
           1 + (a.id %% 99), 1 + (a.id %% 97),
           (ARRAY['Curator','Broadcaster','Taste Maker','Celebrity','Syndicator','Feeder',
                  'Thought Leader','Pundit','Dabbler','Conversationalist','Socializer',
                  'Networker','Observer','Explorer','Activist','Specialist'])[1 + a.id %% 16],
           '["You reply more than you broadcast."]'::jsonb, '{"x": 1.0}'::jsonb,
           (SELECT jsonb_agg(jsonb_build_object('account_id', lo.id + k, 'network', 'x',
                   'handle', 'bench', 'weight', 6 - k)) FROM generate_series(1, 5) k),
           (SELECT jsonb_agg(jsonb_build_object('account_id', lo.id + 5 + k, 'network', 'x',
                   'handle', 'bench', 'weight', 6 - k)) FROM generate_series(1, 5) k),
           '[]'::jsonb, 5 + a.id %% 40, 5 + a.id %% 300
    FROM networks_networkaccount a
    CROSS JOIN scoring_scoringrun r
    CROSS JOIN LATERAL (SELECT CASE WHEN a.id + 10 > %(max_id)s THEN a.id - 20 ELSE a.id END
                        AS id) lo
    WHERE a.network = 'x' AND a.external_id::bigint > 1000000
      AND r.id = %(run_id)s
    ON CONFLICT DO NOTHING
    """,
]

LATEST_SQL = """
    INSERT INTO scoring_latestscore (version_id, account_id, daily_id, day, score, change_1d,
        change_7d, change_30d, network, handle, display_name, hidden)
    SELECT d.version_id, d.account_id, d.id, d.day, d.score, 0.5, -1.25, 2.0, 'x', a.handle,
           a.display_name, false
    FROM scoring_dailyscore d JOIN networks_networkaccount a ON a.id = d.account_id
    WHERE d.run_id = %(run_id)s
"""


def seed(env: dict[str, str]) -> list[str]:
    """100k scored subjects (once) and their cached answers; returns a sample of kloutIds."""
    os.environ.update(env)
    import django

    django.setup()
    import datetime as dt

    from django.core.cache import cache
    from django.db import connection, transaction

    from accounts.models import ApiKey
    from scoring.api.documents import prime_documents
    from scoring.kloutids import KloutId, assign_klout_ids
    from scoring.models import AlgorithmVersion, LatestScore, RunStatus, ScoringRun

    if LatestScore.objects.count() < SUBJECTS:
        t0 = time.perf_counter()
        day = dt.date.today() - dt.timedelta(days=1)
        with transaction.atomic():
            version, _ = AlgorithmVersion.objects.get_or_create(
                name="bench-api", defaults={"is_current": True}
            )
            runs = [
                ScoringRun.objects.get_or_create(
                    day=d, version=version, defaults={"status": RunStatus.PUBLISHED, "progress": 1}
                )[0]
                for d in (day - dt.timedelta(days=5), day)
            ]
            with connection.cursor() as cursor:
                cursor.execute(SEED_SQL[0], {"n": SUBJECTS})
                cursor.execute("SELECT max(id) FROM networks_networkaccount")
                max_id = cursor.fetchone()[0]
                for run in runs:
                    cursor.execute(SEED_SQL[1], {"run_id": run.pk, "max_id": max_id})
                cursor.execute(LATEST_SQL, {"run_id": runs[-1].pk})
            assign_klout_ids(run_id=runs[-1].pk)
        print(f"seeded {SUBJECTS:,} subjects in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    ApiKey.objects.filter(name="bench").delete()
    from accounts.services import create_api_key

    key, raw = create_api_key(name="bench")
    ApiKey.objects.filter(pk=key.pk).update(per_second=10**9, per_day=10**9)
    # The bench's own Redis database, emptied in the background (a synchronous FLUSHDB of
    # 100k hashes can outlast the client's socket timeout on a busy machine).
    cache._cache.get_client(write=True).flushdb(asynchronous=True)  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    primed = prime_documents()
    prime_s = time.perf_counter() - t0
    print(f"primed {primed:,} subjects' answers in {prime_s:.1f} s", file=sys.stderr)
    ids = [
        str(pk) for pk in KloutId.objects.filter(account__isnull=False).values_list("pk", flat=True)
    ]
    random.seed(15)
    seed.prime_s = prime_s  # type: ignore[attr-defined]
    seed.primed = primed  # type: ignore[attr-defined]
    seed.key = raw  # type: ignore[attr-defined]
    return random.sample(ids, min(SAMPLE, len(ids)))


def start_gunicorn(env: dict[str, str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "klout.wsgi",
            "--workers", str(WORKERS),
            "--worker-class", "gthread",
            "--threads", str(THREADS),
            "--bind", f"127.0.0.1:{PORT}",
            "--log-level", "warning",
        ],
        env=env,
        cwd=ROOT,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            conn.request("GET", "/livez")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"gunicorn did not answer on port {PORT} within 30 s")


def wrk_script(paths: list[str], headers: dict[str, str]) -> str:
    quoted = ",".join(json.dumps(p) for p in paths)
    header_lines = "".join(
        f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n" for k, v in headers.items()
    )
    return f"""
paths = {{{quoted}}}
{header_lines}
math.randomseed(15)
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
response = function(status, headers, body)
  if status ~= 200 then
    io.stderr:write("status " .. status .. "\\n")
  end
end
"""


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _wrk_base(paths: list[str], headers: dict[str, str] | None) -> list[str]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(wrk_script(paths, headers or {}))
    return ["wrk", "-t", "1", "-c", str(CONNECTIONS), "-s", f.name, f"http://127.0.0.1:{PORT}"]


def warm_up_server(loads: list[tuple[list[str], dict[str, str] | None]]) -> None:
    """Untimed load on every measured path before the first measurement.

    `start_gunicorn` returns at the first answer, from whichever worker booted first: without
    this, the first figure (the bare view, the denominator of every ratio) was taken while the
    other worker was still importing Django and each thread was opening its database and Redis
    connections, so the ratios moved from run to run.
    """
    for paths, headers in loads:
        base = _wrk_base(paths, headers)
        subprocess.run([*base[:1], "-d", f"{WARM_UP_SECONDS}s", *base[1:]], check=True,
                       capture_output=True)  # fmt: skip
        os.unlink(base[6])


def run_wrk(name: str, paths: list[str], headers: dict[str, str] | None = None) -> dict[str, float]:
    """Warm up, then SECONDS of load; requests/s and latency percentiles, prefixed with name."""
    base = _wrk_base(paths, headers)
    script = base[6]
    subprocess.run([*base[:1], "-d", "2s", *base[1:]], check=True, capture_output=True)
    out = subprocess.run(
        [*base[:1], "-d", f"{SECONDS}s", "--latency", *base[1:]],
        check=True,
        capture_output=True,
        text=True,
    )
    os.unlink(script)
    if "status " in out.stderr:
        raise SystemExit(f"{name}: non-200 answers: {out.stderr.strip().splitlines()[:3]}")
    text = out.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    pct = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", text, re.M))
    return {
        f"{name}_req_per_s": round(rps, 1),
        f"{name}_p50_ms": round(_ms(pct["50"]), 3),
        f"{name}_p99_ms": round(_ms(pct["99"]), 3),
    }


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("bench/api.py needs wrk (apt-get install wrk)")
    env = server_env()
    create_database(PG, DB_NAME)
    print("migrating…", file=sys.stderr)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "collectstatic", "--noinput", "-v", "0")
    ids = seed(env)
    key = seed.key  # type: ignore[attr-defined]
    bearer = {"Authorization": f"Bearer {key}"}
    rng = random.Random(15)
    bulks = [",".join(rng.sample(ids, 100)) for _ in range(200)]
    loads: dict[str, tuple[list[str], dict[str, str] | None]] = {
        "bare": (["/livez"], None),
        "v2_user": ([f"/v2/user.json/{i}?key={key}" for i in ids], None),
        "modern_subject": ([f"/api/v1/subjects/{i}" for i in ids], bearer),
        "bulk100": ([f"/api/v1/subjects?ids={b}" for b in bulks], bearer),
    }
    proc = start_gunicorn(env)
    try:
        warm_up_server(list(loads.values()))
        bare = run_wrk("bare", *loads["bare"])
        legacy = run_wrk("v2_user", *loads["v2_user"])
        modern = run_wrk("modern_subject", *loads["modern_subject"])
        bulk = run_wrk("bulk100", *loads["bulk100"])
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    result: dict[str, float | int] = {
        "subjects": SUBJECTS,
        "gunicorn_workers": WORKERS,
        "threads_per_worker": THREADS,
        "connections": CONNECTIONS,
        "seconds_per_measurement": SECONDS,
        "warm_up_s_per_path": WARM_UP_SECONDS,
        "prime_s": round(seed.prime_s, 1),  # type: ignore[attr-defined]
        "primed_subjects": seed.primed,  # type: ignore[attr-defined]
        **bare,
        **legacy,
        **modern,
        **bulk,
        "v2_user_ratio_vs_bare": round(legacy["v2_user_req_per_s"] / bare["bare_req_per_s"], 3),
        "modern_subject_ratio_vs_bare": round(
            modern["modern_subject_req_per_s"] / bare["bare_req_per_s"], 3
        ),
        "target_single_req_per_s": 2000,
        "target_single_p99_ms": 10,
        "target_ratio_vs_bare": 0.8,
        "target_bulk100_req_per_s": 700,
        "target_bulk100_p99_ms": 25,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(f"settings: {SETTINGS_NOTE}")
    print(f"gunicorn: {WORKERS} workers x {THREADS} threads (gthread), {CONNECTIONS} connections")
    for name in ("bare", "v2_user", "modern_subject", "bulk100"):
        print(
            f"{name:>15}: {result[name + '_req_per_s']:>8} req/s  p50 {result[name + '_p50_ms']} ms"
            f"  p99 {result[name + '_p99_ms']} ms"
        )
    print(
        f"ratios vs bare: v2 {result['v2_user_ratio_vs_bare']}, "
        f"modern {result['modern_subject_ratio_vs_bare']}"
    )
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
