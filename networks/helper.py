"""A second database connection on its own thread, for work that can run beside an import's own.

PostgreSQL runs one backend per connection, so a second connection lets the second core work on
the database too: an import's partition indexes are built half here, half on its own connection.
Django gives each thread its own connection; the helper's is closed with it.

Only outside a transaction: what the helper does is committed on its own, and it cannot see what
an open transaction of the import's connection has not committed.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.db import connection, connections


class Helper:
    """One thread with its own connection; `submit` runs a function there."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-helper")

    @staticmethod
    def usable() -> bool:
        """Whether the current connection can share work with a helper (PostgreSQL, autocommit)."""
        return connection.vendor == "postgresql" and not connection.in_atomic_block

    def submit[T](self, fn: Callable[..., T], *args: Any) -> Future[T]:
        return self._pool.submit(fn, *args)

    def close(self) -> None:
        """Close the helper's connection and stop its thread."""
        try:
            self._pool.submit(connections.close_all).result()
        finally:
            self._pool.shutdown()
