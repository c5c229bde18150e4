"""A real Celery worker process for tests marked `worker` (import the fixture into the test module).

It consumes from Redis (REDIS_URL) and uses the same test database as the test process, so tests
using it must be `transaction=True` (the worker only sees committed rows).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from klout.celery import app

BASE_DIR = Path(__file__).resolve().parent.parent


def _require_redis() -> str:
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        if os.environ.get("CI") == "true":
            pytest.fail("REDIS_URL must be set in CI: the worker test is never skipped there")
        pytest.skip("REDIS_URL is not set: no Redis broker for a real Celery worker")
    return redis_url


def _test_database_url() -> str:
    """A DATABASE_URL naming the database this test process uses (test_<name>)."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        name = str(db["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            message = "the SQLite test database is in memory; a worker process cannot see it"
            if os.environ.get("CI") == "true":
                pytest.fail(message + " (CI must use PostgreSQL)")
            pytest.skip(message + " (set DATABASE_URL to PostgreSQL)")
        return f"sqlite:///{name}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def celery_worker(transactional_db: None) -> Iterator[subprocess.Popen[bytes]]:
    """Start `celery worker` on every queue against Redis; send tasks to it, not eagerly."""
    redis_url = _require_redis()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }
    app.control.purge()  # leftovers of an earlier, interrupted run
    log_path = BASE_DIR / "var" / "test-worker.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("wb")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "klout", "worker",
            "-P", "solo", "-Q", "default,ingest,scoring",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        deadline = time.monotonic() + 60
        while b"ready." not in log_path.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the worker did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield process
    finally:
        app.conf.task_always_eager = eager
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
