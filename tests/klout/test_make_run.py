"""`make run`'s embedded default, end to end: a fresh SQLite database migrated and seeded with the
demo (a real dataset scored and published), as a newcomer's first command does. The suite itself
runs on PostgreSQL, so this is what keeps the SQLite write paths of the daily run honest."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_a_fresh_sqlite_database_migrates_and_seeds_the_demo(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'klout.sqlite3'}",
        DJANGO_SETTINGS_MODULE="klout.settings",
        DJANGO_DEBUG="1",
    )

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    migrated = manage("migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    seeded = manage("seed_demo")
    assert seeded.returncode == 0, seeded.stderr[-3000:]

    out = seeded.stdout
    assert "Demo log-ins (password for all:" in out
    for login in ("alice@demo.klout.local", "staff@demo.klout.local", "brand@demo.klout.local"):
        assert login in out
    assert "Demo scores up to" in out

    # Then walk it as each kind of demo user: no internal link may answer 5xx or 404.
    walked = manage("shell", "-c", "from tests.demo_crawl import main; main()")
    assert walked.returncode == 0, walked.stdout[-3000:] + walked.stderr[-3000:]
    pages = dict(re.findall(r"^(\w+): (\d+) pages", walked.stdout, re.MULTILINE))
    assert set(pages) == {"visitor", "person", "brand", "staff"}
    assert all(int(n) > 20 for n in pages.values()), pages
