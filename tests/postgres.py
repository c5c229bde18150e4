"""Tests that only PostgreSQL can run: mark them `postgres` (skipped elsewhere by tests/conftest.py)
or, inside a fixture or helper, call `needs_postgres`."""

from __future__ import annotations

import pytest
from django.db import connection


def needs_postgres(why: str = "needs PostgreSQL") -> None:
    """Skip the running test unless the database is PostgreSQL."""
    if connection.vendor != "postgresql":
        pytest.skip(why)
