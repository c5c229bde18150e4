"""Helpers for network tests: small slices of the real datasets, written to tmp_path."""

from __future__ import annotations

import gzip
import itertools
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from django.conf import settings

from networks.records import IngestResult, InteractionRecord
from networks.session import ImportSession
from networks.staging import prepare_batch
from tests.postgres import needs_postgres

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


OpenSession = Callable[..., ImportSession]


@pytest.fixture
def open_session() -> Iterator[OpenSession]:
    """Open an import session on PostgreSQL (with load tables) for a network, as a file import
    would: `open_session("higgs", helper=True)`; closed after the test."""
    needs_postgres("bulk loads are PostgreSQL's")
    with ExitStack() as opened:

        def open_(network: str = "dev", *, helper: bool = False) -> ImportSession:
            # a strict session has no helper (and the test's transaction would not allow one)
            session = ImportSession(run_id=987_654, network=network, strict=not helper)
            return opened.enter_context(session)

        yield open_


@pytest.fixture
def session(open_session: OpenSession) -> ImportSession:
    """An import session of the "dev" network (PostgreSQL)."""
    return open_session("dev")


def store_records(session: ImportSession, interactions: list[InteractionRecord]) -> IngestResult:
    """Store interaction records as one batch of the session's import."""
    return session.store(prepare_batch(session.network, [], [], interactions, postgres=True))
