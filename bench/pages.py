"""Benchmark: dashboard pages/s and latency under gunicorn on PostgreSQL, against a bare view.

Sets up database `klout_bench_pages` (created if missing, migrated), gives one user 90 days of
published history (rows written directly, idempotently), serves the project with gunicorn
(2 sync workers, production settings), signs in through a session made in-process, then drives
the dashboard and `/healthz` with a small threaded keep-alive load generator.

Production settings: DJANGO_DEBUG=0 with a random secret key and token key, Redis as the cache
(and session cache) as in a deploy; only DJANGO_SECURE_SSL_REDIRECT=0, since the bench speaks plain
http on loopback. Clients keep the cookies the site sets (session, CSRF), as a browser does.

Prints pages/s, p50/p99 and the dashboard/bare ratio; writes var/bench/pages.json (flat, units in
the names). Environment: BENCH_PG (server URL, no database), BENCH_REDIS (a Redis database the
bench may flush), BENCH_REQUESTS, BENCH_CONCURRENCY.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import create_database, manage, production_env  # noqa: E402

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "klout_bench_pages"
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/14")
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "2000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "4"))
WORKERS = 2
THREADS = 2
WARMUP = 100
HISTORY_DAYS = 90
OUT = ROOT / "var" / "bench" / "pages.json"
SETTINGS_NOTE = (
    "production settings (DJANGO_DEBUG=0, Redis cache and session cache, PostgreSQL), "
    "except DJANGO_SECURE_SSL_REDIRECT=0: plain http on loopback"
)


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env() -> dict[str, str]:
    """Production settings for gunicorn and for the in-process setup (same database, same keys)."""
    return production_env(database_url=f"{PG}/{DB_NAME}", redis_url=REDIS, var_name="pages-var")


def seed(env: dict[str, str]) -> tuple[str, str]:
    """Give the benchmark user 90 days of history; return (session cookie name, session key)."""
    os.environ.update(env)
    import django

    django.setup()
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.core.cache import cache
    from django.db import transaction

    from accounts.models import User
    from networks.models import Network, NetworkAccount
    from scoring.models import (
        AlgorithmVersion,
        DailyScore,
        Explanation,
        LatestScore,
        RunStatus,
        ScoringRun,
    )

    cache.clear()  # the bench's own Redis database: no pages cached by an older build
    end = dt.date.today() - dt.timedelta(days=1)
    with transaction.atomic():
        user, _ = User.objects.get_or_create(
            email="bench@example.com", defaults={"display_name": "Bench Person"}
        )
        version = AlgorithmVersion.objects.filter(is_current=True).first()
        if version is None:
            version, _ = AlgorithmVersion.objects.get_or_create(
                name="bench-v1", defaults={"is_current": True}
            )
        people = []
        for i in range(10):
            acct, _ = NetworkAccount.objects.get_or_create(
                network=Network.DEV,
                external_id=f"bench-friend-{i}",
                defaults={"handle": f"benchfriend{i}", "display_name": f"Friend {i}"},
            )
            people.append(
                {"account_id": acct.pk, "network": "dev", "handle": acct.handle, "weight": 10 - i}
            )
        for net in (Network.MASTODON, Network.BLUESKY):
            NetworkAccount.objects.get_or_create(
                network=net,
                external_id=f"bench-{net}",
                defaults={"handle": f"bench_{net}", "user": user},
            )
        newest = None
        for i in range(HISTORY_DAYS):
            day = end - dt.timedelta(days=HISTORY_DAYS - 1 - i)
            run, _ = ScoringRun.objects.get_or_create(
                day=day, version=version, defaults={"status": RunStatus.PUBLISHED, "progress": 1}
            )
            row = DailyScore.objects.filter(user=user, day=day, version=version).first()
            if row is None:
                row = DailyScore.objects.create(
                    run=run,
                    version=version,
                    day=day,
                    user=user,
                    score=40 + (i * 7) % 20,
                    raw=0.4,
                    true_reach=300 + i,
                    amplification=35,
                    network_score=28,
                    style="conversationalist",
                    style_reasons=["You reply more than you broadcast."],
                    network_contributions={"mastodon": 0.6, "bluesky": 0.4},
                    influencers=people,
                    influencees=people[::-1],
                    moments=[{"post_id": 1, "text": "My sourdough thread", "actions": 40}],
                    last_activity_at=dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC),
                )
                Explanation.objects.bulk_create(
                    Explanation(score=row, points=p, kind=k, text=t, position=n)
                    for n, (p, k, t) in enumerate(
                        [
                            (1.2, "reach", "9 new people shared your posts"),
                            (0.4, "network", "An influential account replied to you"),
                            (-0.3, "decay", "Reactions older than 30 days count less now"),
                        ]
                    )
                )
            newest = row
        assert newest is not None
        LatestScore.objects.update_or_create(
            user=user,
            defaults={
                "version": version,
                "daily": newest,
                "day": newest.day,
                "score": newest.score,
                "change_1d": 1.3,
                "change_7d": -0.5,
                "change_30d": 4.0,
                "display_name": user.display_name,
            },
        )
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    assert session.session_key is not None
    return settings.SESSION_COOKIE_NAME, session.session_key


def start_gunicorn(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """gunicorn with 2 sync workers; returns once /healthz answers."""
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "klout.wsgi",
            "--workers",
            str(WORKERS),
            # gthread keeps client connections alive, as a proxy in front of gunicorn would.
            "--worker-class",
            "gthread",
            "--threads",
            str(THREADS),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("gunicorn did not answer /healthz within 30 s")


def with_set_cookies(cookie: str, set_cookies: list[str]) -> str:
    """The Cookie header a browser sends next: the old cookies updated by the Set-Cookie ones."""
    jar = SimpleCookie(cookie)
    for header in set_cookies:
        jar.load(header)
    return "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())


def load(port: int, path: str, cookie: str, total: int) -> tuple[float, list[float]]:
    """Issue `total` GETs from CONCURRENCY threads over keep-alive connections.

    Returns (wall seconds, per-request latencies in ms). Any non-200 answer aborts the run.
    """
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(total))
    errors: list[str] = []

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        headers = {"Cookie": cookie, "Connection": "keep-alive"}
        while True:
            with lock:
                if next(counter, None) is None:
                    break
            t0 = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append((time.perf_counter() - t0) * 1000)
            if response.status != 200:
                errors.append(f"{path} answered {response.status}")
                break
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(CONCURRENCY)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    if errors:
        raise SystemExit(errors[0])
    return wall, latencies


def server_cpu_seconds(proc: subprocess.Popen[bytes]) -> float:
    """CPU seconds used so far by the gunicorn master and workers."""
    parent = psutil.Process(proc.pid)
    total = 0.0
    for p in [parent, *parent.children(recursive=True)]:
        times = p.cpu_times()
        total += times.user + times.system
    return total


def measure(
    proc: subprocess.Popen[bytes], port: int, path: str, cookie: str, name: str
) -> dict[str, float]:
    """Warm up, then time REQUESTS requests to `path`; figures prefixed with `name`."""
    load(port, path, cookie, WARMUP)
    cpu0 = server_cpu_seconds(proc)
    wall, lat = load(port, path, cookie, REQUESTS)
    cpu = server_cpu_seconds(proc) - cpu0
    lat.sort()
    pages_s = len(lat) / wall
    return {
        f"{name}_requests": len(lat),
        f"{name}_pages_per_s": round(pages_s, 1),
        f"{name}_pages_per_server_cpu_s": round(len(lat) / cpu, 1) if cpu else 0.0,
        f"{name}_p50_ms": round(statistics.median(lat), 2),
        f"{name}_p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 2),
        f"{name}_max_ms": round(lat[-1], 2),
    }


def main() -> None:
    env = server_env()
    create_database(PG, DB_NAME)
    print("migrating…", file=sys.stderr)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "collectstatic", "--noinput", "-v", "0")
    cookie_name, session_key = seed(env)
    cookie = f"{cookie_name}={session_key}"
    port = free_port()
    proc = start_gunicorn(env, port)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/dashboard/", headers={"Cookie": cookie})
        response = conn.getresponse()
        body = response.read()
        if response.status != 200 or b"score-big" not in body:
            raise SystemExit(f"dashboard did not render for the bench user ({response.status})")
        cookie = with_set_cookies(cookie, response.msg.get_all("Set-Cookie") or [])
        dashboard = measure(proc, port, "/dashboard/", cookie, "dashboard")
        bare = measure(proc, port, "/healthz", cookie, "bare")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    cores = min(WORKERS, psutil.cpu_count() or 1)
    result: dict[str, float | int | str] = {
        "settings": SETTINGS_NOTE,
        "workers": WORKERS,
        "threads_per_worker": THREADS,
        "concurrency": CONCURRENCY,
        "history_days": HISTORY_DAYS,
        "dashboard_bytes": len(body),
        **dashboard,
        **bare,
        "dashboard_pages_per_s_per_core": round(dashboard["dashboard_pages_per_s"] / cores, 1),
        "dashboard_to_bare_throughput_ratio": round(
            dashboard["dashboard_pages_per_s"] / bare["bare_pages_per_s"], 3
        ),
        "target_pages_per_s_per_core": 150,
        "target_p99_ms": 50,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"dashboard: {dashboard['dashboard_pages_per_s']:.0f} pages/s "
        f"({result['dashboard_pages_per_s_per_core']} per core, "
        f"{dashboard['dashboard_pages_per_server_cpu_s']:.0f} per server CPU-second), "
        f"p50 {dashboard['dashboard_p50_ms']} ms, p99 {dashboard['dashboard_p99_ms']} ms"
    )
    print(
        f"bare /healthz: {bare['bare_pages_per_s']:.0f} pages/s, p50 {bare['bare_p50_ms']} ms, "
        f"p99 {bare['bare_p99_ms']} ms; dashboard/bare = "
        f"{result['dashboard_to_bare_throughput_ratio']}"
    )
    print(f"settings: {SETTINGS_NOTE}")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
