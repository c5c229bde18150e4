"""The raw Redis client behind Django's cache, for the few things the cache API cannot say.

Quota counting and the API's hot path run small Lua scripts (one round trip, atomic). Only a
Redis cache has a client: with the local-memory cache (development without REDIS_URL) callers get
None and use the cache API instead. A cache call that fails raises `redis.RedisError`; callers
fail open to the database (STYLE.md rule 14).
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache


def raw_redis() -> Any | None:
    """The redis-py client of the default cache, or None when the cache is not Redis.

    Django makes a client object per cache call; this one is made once per cache object (one per
    thread) and kept on it, since it is on the API's hot path.
    """
    inner = getattr(cache, "_cache", None)
    client = getattr(inner, "_klout_raw_client", None)
    if client is not None:
        return client
    get_client = getattr(inner, "get_client", None)
    if get_client is None:
        return None
    client = get_client(write=True)
    inner._klout_raw_client = client  # type: ignore[union-attr]
    return client


def raw_key(key: str) -> str:
    """The Redis key under which Django's cache stores `key` (prefix and version applied)."""
    return cache.make_key(key)
