"""Shared fixtures: named personas and helpers. Network access is blocked (pytest-socket)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from tests.factories.accounts import UserFactory
from tests.postgres import needs_postgres


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked `postgres` (concurrency, COPY, partitions) skip on SQLite."""
    if item.get_closest_marker("postgres") is not None:
        needs_postgres("marked postgres: needs PostgreSQL")


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Each test starts with an empty cache (Redis in CI), so rate limits do not leak."""
    cache.clear()


@pytest.fixture
def alice(db):
    """Alice, the scored user."""
    return UserFactory(email="alice@example.com", display_name="Alice")


@pytest.fixture
def bob(db):
    """Bob, who vouches for others."""
    return UserFactory(email="bob@example.com", display_name="Bob")


@pytest.fixture
def charlie(db):
    """Charlie, the stranger who must never see other people's private pages."""
    return UserFactory(email="charlie@example.com", display_name="Charlie")


@pytest.fixture
def alice_client(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def charlie_client(charlie) -> Client:
    client = Client()
    client.force_login(charlie)
    return client
