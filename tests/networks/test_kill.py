"""An import killed with SIGKILL halfway, then run again, equals one clean run (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from networks.models import Interaction, NetworkAccount, SyncRun
from networks.partitions import LOAD_PREFIX
from networks.records import InteractionRecord
from networks.services import ingest_batch
from tests.networks.conftest import higgs_file

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
LINES = 40_000
JULY_2012 = dt.datetime(2012, 7, 15, tzinfo=dt.UTC)


def import_command(path: Path) -> list[str]:
    manage = Path(settings.BASE_DIR) / "manage.py"
    return [
        sys.executable,
        str(manage),
        "import_dataset",
        "higgs",
        str(path),
        "--batch-size",
        "2000",
        "--no-progress",
    ]


def child_env() -> dict[str, str]:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    return {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "tests.settings"}


def store_fingerprint() -> tuple[int, str]:
    keys = Interaction.objects.filter(network="higgs").order_by("source_key")
    digest = hashlib.sha256("\n".join(keys.values_list("source_key", flat=True)).encode())
    return keys.count(), digest.hexdigest()


@pytest.fixture
def higgs_40k(tmp_path: Path) -> Path:
    path = tmp_path / "higgs-40k.txt"
    with gzip.open(higgs_file(), "rt") as src:
        path.write_text("".join(itertools.islice(src, LINES)))
    return path


def load_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname LIKE %s", [f"{LOAD_PREFIX}%"])
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.parametrize("month_held", [False, True], ids=["new-month-bulk-load", "month-held"])
def test_import_killed_halfway_then_rerun_equals_one_clean_run(higgs_40k, month_held):
    if connection.vendor != "postgresql":
        pytest.skip("the kill test needs PostgreSQL (a separate process sharing the database)")
    if month_held:
        # Another network already holds July 2012: the import merges batch by batch.
        ingest_batch(
            network="dev",
            interactions=[InteractionRecord("x", "y", "share", JULY_2012, "held")],
        )
    env = child_env()
    child = subprocess.Popen(import_command(higgs_40k), env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not SyncRun.objects.filter(format="higgs", read_count__gte=LINES * 0.3).exists():
        assert child.poll() is None, "the import finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    killed_count = Interaction.objects.filter(network="higgs").count()
    assert killed_count < LINES
    assert killed_count % 2000 == 0, "a kill leaves only whole batches"
    if month_held:
        assert killed_count > 0
        assert load_tables() == []
    else:
        # A new month loads into a detached table: nothing is visible until it is attached.
        assert killed_count == 0
        assert len(load_tables()) == 1

    subprocess.run(import_command(higgs_40k), env=env, check=True, stdout=subprocess.DEVNULL)
    after_rerun = store_fingerprint()
    assert load_tables() == [], "the rerun dropped the killed import's load table"
    Interaction.objects.filter(network="higgs").delete()
    NetworkAccount.objects.filter(network="higgs").delete()
    subprocess.run(import_command(higgs_40k), env=env, check=True, stdout=subprocess.DEVNULL)
    clean = store_fingerprint()

    assert after_rerun == clean
    assert clean[0] == LINES
