"""Helpers for network tests: small slices of the real datasets, written to tmp_path."""

from __future__ import annotations

import gzip
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from networks.partitions import BulkLoad

FIXTURES = Path(__file__).parent / "fixtures"


def higgs_file() -> Path:
    return settings.SHARED_DATA_DIR / "higgs-twitter" / "higgs-activity_time.txt.gz"


@pytest.fixture
def higgs_slice(tmp_path: Path) -> Path:
    """The first 3,000 lines of the real Higgs activity file, gzipped."""
    path = tmp_path / "higgs-slice.txt.gz"
    with gzip.open(higgs_file(), "rt") as src, gzip.open(path, "wt") as dst:
        dst.writelines(itertools.islice(src, 3000))
    return path


@pytest.fixture(autouse=True)
def uploads_in_tmp(settings, tmp_path: Path) -> None:
    """Uploaded archives land in a temporary folder, not the project's var/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def load() -> Iterator[BulkLoad]:
    """An import's bulk load (PostgreSQL), owned for the test."""
    if connection.vendor != "postgresql":
        pytest.skip("bulk loads are PostgreSQL's")
    bulk = BulkLoad(run_id=987_654)
    bulk.begin()
    yield bulk
    bulk.end()
