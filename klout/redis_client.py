"""The raw Redis client behind Django's cache, for the few things the cache API cannot say.

Quota counting and the API's hot path run small Lua scripts (one round trip, atomic). Only a
Redis cache has a client: with the local-memory cache (development without REDIS_URL) callers get
None and use the cache API instead. A cache call that fails raises `redis.RedisError`; callers
fail open to the database (STYLE.md rule 14).

Both the client and the key prefix are looked up once per process (they sit on the API's hot
path, where going through Django's per-thread cache handler on every call was measurable) and
forgotten when a test changes the cache settings.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache import cache
from django.core.signals import setting_changed

_UNSET: Any = object()
_lock = threading.Lock()
_memo: dict[str, Any] = {}


def raw_redis() -> Any | None:
    """The redis-py client of the default cache (one per process, thread-safe with its own
    connection pool), or None when the cache is not Redis."""
    client = _memo.get("client", _UNSET)
    if client is not _UNSET:
        return client
    get_client = getattr(getattr(cache, "_cache", None), "get_client", None)
    client = None if get_client is None else get_client(write=True)
    with _lock:
        return _memo.setdefault("client", client)


def raw_key(key: str) -> str:
    """The Redis key under which Django's cache stores `key` (prefix and version applied)."""
    prefix = _memo.get("prefix")
    if prefix is None:
        prefix = cache.make_key("")
        if cache.make_key("k") != prefix + "k":  # a custom KEY_FUNCTION: ask it every time
            return cache.make_key(key)
        _memo["prefix"] = prefix
    return prefix + key


def _forget(*, setting: str, **kwargs: Any) -> None:
    if setting == "CACHES":
        _memo.clear()


setting_changed.connect(_forget)
