"""API keys at request time: hashing, the cached key record, and quota counting in Redis.

The gate is one Redis round trip (a Lua script, so it is atomic): look up the key's record, count
the call against the key's per-second and per-day quotas, and (for the API's hot path) read the
pre-serialised documents of the subjects asked for (one, or up to a bulk call's hundred). A key
record missing from Redis is read from the database and cached.

**Redis away (documented choice, tested):** the API fails *open*. A key is then checked against
the database, calls are served from the database and are **not counted**: a cache outage must not
take partners' reads down, and quotas protect fairness rather than secrets (a key still has to be
valid and not revoked). Such answers carry no `RateLimit` headers, and the outage is logged.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import secrets
import time
from typing import Any

from django.core.cache import cache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError

from accounts.models import ApiKey
from klout.redis_client import raw_key, raw_redis

logger = logging.getLogger(__name__)

KEY_PREFIX = "klt_"
RECORD_SECONDS = 60 * 60 * 24  # a revoked key's record is deleted; this only bounds memory
DAY_COUNTER_SECONDS = 60 * 60 * 24 * 40  # the developer page shows 30 days of calls
SHOWN_DAYS = 30


def generate_key() -> str:
    """A new random key (shown once to its owner, never stored)."""
    return KEY_PREFIX + secrets.token_urlsafe(24)


def hash_key(raw: str) -> str:
    """What is stored and looked up: the key's SHA-256 in hex."""
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


@dataclasses.dataclass(frozen=True, slots=True)
class KeyRecord:
    """What a request needs to know about its key."""

    id: int
    per_second: int
    per_day: int

    def dumps(self) -> str:
        return f"{self.id}:{self.per_second}:{self.per_day}"

    @classmethod
    def loads(cls, raw: bytes | str) -> KeyRecord:
        text = raw.decode() if isinstance(raw, bytes) else raw
        key_id, per_second, per_day = (int(part) for part in text.split(":"))
        return cls(key_id, per_second, per_day)


@dataclasses.dataclass(frozen=True, slots=True)
class Gate:
    """The outcome of one call's gate: its key (None: refused), its counts, cached documents."""

    key: KeyRecord | None
    second_calls: int = 0
    day_calls: int = 0
    documents: tuple[bytes | None, ...] = ()  # one per document asked for, None if not cached
    counted: bool = True  # False when Redis was away (fail open, see the module docstring)
    epoch: int | None = None  # the privacy epoch the document was looked up under
    second_resets_in: float = 1.0
    day_resets_in: int = 0

    @property
    def document(self) -> bytes | None:
        """The cached document of a single lookup (the first asked for)."""
        return self.documents[0] if self.documents else None

    @property
    def over_second(self) -> bool:
        return self.key is not None and self.counted and self.second_calls > self.key.per_second

    @property
    def over_day(self) -> bool:
        return self.key is not None and self.counted and self.day_calls > self.key.per_day

    @property
    def over_quota(self) -> bool:
        return self.over_second or self.over_day


def record_cache_key(hashed: str) -> str:
    return raw_key(f"apikey:{hashed}")


def second_counter(key_id: int, second: int) -> str:
    return raw_key(f"quota:s:{key_id}:{second}")


def day_counter(key_id: int, day: dt.date) -> str:
    return raw_key(f"quota:d:{key_id}:{day.isoformat()}")


# KEYS[1] record, KEYS[2] epoch; ARGV: second, day, document key prefix ("" for none), field,
# counter key prefix, then the documents' ids. Returns {record or false, second count, day count,
# epoch, then each document or false}. An unknown record counts nothing.
_GATE_LUA = """
local rec = redis.call('GET', KEYS[1])
if not rec then return {false, 0, 0, '0'} end
local id = string.match(rec, '^(%d+):')
local sk = ARGV[5] .. 's:' .. id .. ':' .. ARGV[1]
local s = redis.call('INCR', sk)
if s == 1 then redis.call('EXPIRE', sk, 2) end
local dk = ARGV[5] .. 'd:' .. id .. ':' .. ARGV[2]
local d = redis.call('INCR', dk)
if d == 1 then redis.call('EXPIRE', dk, DAY_SECONDS) end
local out = {rec, s, d, '0'}
if ARGV[3] ~= '' then
  local epoch = redis.call('GET', KEYS[2]) or '0'
  out[4] = epoch
  local prefix = ARGV[3] .. epoch .. ':'
  for i = 6, #ARGV do
    out[i - 1] = redis.call('HGET', prefix .. ARGV[i], ARGV[4])
  end
end
return out
""".replace("DAY_SECONDS", str(DAY_COUNTER_SECONDS))


def _script(client: Any) -> Any:
    """The gate script bound to this client (registered once; EVALSHA afterwards)."""
    script = getattr(client, "_klout_gate_script", None)
    if script is None:
        script = client.register_script(_GATE_LUA)
        client._klout_gate_script = script
    return script


def _run_gate_script(client: Any, keys: list[str], args: list[Any]) -> list[Any]:
    """EVALSHA on a pooled connection, without redis-py's per-command machinery (retry closures,
    observability hooks: a third of the hot path's time in redis-py 8). A connection that failed
    mid-call is dropped; a refused one is retried once on a fresh connection, as redis-py would."""
    script = _script(client)
    pool = client.connection_pool
    for attempt in (1, 2):
        conn = pool.get_connection()
        try:
            try:
                conn.send_command("EVALSHA", script.sha, len(keys), *keys, *args)
                return conn.read_response()
            except NoScriptError:  # a restarted (or flushed) server: load it again
                script.sha = client.script_load(script.script)
                conn.send_command("EVALSHA", script.sha, len(keys), *keys, *args)
                return conn.read_response()
        except RedisConnectionError:
            conn.disconnect()
            if attempt == 2:
                raise
        except BaseException:
            conn.disconnect()  # a half-read reply must not reach the next caller
            raise
        finally:
            pool.release(conn)
    raise AssertionError("unreachable")


def _record_from_db(hashed: str) -> KeyRecord | None:
    row = (
        ApiKey.objects.active()
        .filter(hashed=hashed)
        .values_list("pk", "per_second", "per_day")
        .first()
    )
    return None if row is None else KeyRecord(*row)


def _resets(now: float) -> tuple[float, int]:
    day_end = (int(now) // 86400 + 1) * 86400
    return 1.0 - (now % 1.0), day_end - int(now)


class NeedsDatabase(Exception):
    """The gate cannot answer from Redis alone (the key's record is not cached, Redis away)."""


def pass_gate(
    raw: str | None,
    *,
    epoch_key: str = "",
    document_prefix: str = "",
    documents: tuple[str, ...] | list[str] = (),
    field: str = "",
    redis_only: bool = False,
) -> Gate:
    """Check a key and count one call; read `document_prefix + epoch + ":" + id`'s `field` for
    each id in `documents`.

    The key and its counting are one atomic Redis script; with Redis away the key is checked in
    the database and the call is served uncounted (fail open; see the module docstring). With
    `redis_only` (the WSGI hot path, outside Django's request cycle) nothing touches the database:
    NeedsDatabase is raised instead, before anything was counted.
    """
    if not raw or len(raw) > 200:
        return Gate(key=None)
    hashed = hash_key(raw)
    now = time.time()
    second = int(now)
    day = dt.datetime.fromtimestamp(now, tz=dt.UTC).date()
    second_left, day_left = _resets(now)
    try:
        client = raw_redis()
    except Exception:  # a misconfigured cache: the database still answers
        client = None
    if client is None:
        if redis_only:
            raise NeedsDatabase
        return _gate_without_redis(hashed, second, day, second_left, day_left)
    keys = [record_cache_key(hashed), epoch_key or record_cache_key(hashed)]
    args = [second, day.isoformat(), document_prefix, field, raw_key("quota:"), *documents]
    try:
        rec, s, d, epoch, *docs = _run_gate_script(client, keys, args)
        if not rec:
            if redis_only:
                raise NeedsDatabase
            record = _record_from_db(hashed)
            if record is None:
                return Gate(key=None)
            client.set(record_cache_key(hashed), record.dumps(), ex=RECORD_SECONDS)
            rec, s, d, epoch, *docs = _run_gate_script(client, keys, args)
            if not rec:  # revoked in between
                return Gate(key=None)
    except (RedisError, OSError) as exc:  # fail open to the database (module docstring)
        if redis_only:
            raise NeedsDatabase from exc
        logger.warning("API gate: Redis unavailable (%s); calls are not counted", exc)
        record = _record_from_db(hashed)
        return Gate(key=record, counted=False)
    return Gate(
        key=KeyRecord.loads(rec),
        second_calls=int(s),
        day_calls=int(d),
        documents=tuple(doc or None for doc in docs),
        epoch=int(epoch) if document_prefix else None,
        second_resets_in=second_left,
        day_resets_in=day_left,
    )


def _gate_without_redis(
    hashed: str, second: int, day: dt.date, second_left: float, day_left: int
) -> Gate:
    """Development without Redis: the key from the database, counts in the local cache."""
    record = _record_from_db(hashed)
    if record is None:
        return Gate(key=None)
    counts = []
    for key, ttl in (
        (f"quota:s:{record.id}:{second}", 2),
        (f"quota:d:{record.id}:{day.isoformat()}", DAY_COUNTER_SECONDS),
    ):
        cache.add(key, 0, ttl)
        try:
            counts.append(cache.incr(key))
        except ValueError:  # expired between add and incr
            cache.set(key, 1, ttl)
            counts.append(1)
    return Gate(
        key=record,
        second_calls=counts[0],
        day_calls=counts[1],
        second_resets_in=second_left,
        day_resets_in=day_left,
    )


def forget_key(hashed: str) -> None:
    """Drop a key's cached record (after a revoke, a rotation or a quota change commits)."""
    try:
        client = raw_redis()
        if client is not None:
            client.delete(record_cache_key(hashed))
    except Exception as exc:
        # The record expires within RECORD_SECONDS; log so an operator can flush it sooner.
        logger.error("could not drop the cached record of an API key: %s", exc)


def calls_per_day(
    key_ids: list[int], *, today: dt.date, days: int = SHOWN_DAYS
) -> dict[int, list[tuple[dt.date, int]]]:
    """Calls counted per key and UTC day (newest first); zeros when Redis is away."""
    dates = [today - dt.timedelta(days=i) for i in range(days)]
    out: dict[int, list[tuple[dt.date, int]]] = {}
    try:
        client = raw_redis()
    except Exception:
        client = None
    for key_id in key_ids:
        values: list[object]
        try:
            if client is not None:
                values = client.mget([day_counter(key_id, d) for d in dates])
            else:
                got = cache.get_many([f"quota:d:{key_id}:{d.isoformat()}" for d in dates])
                values = [got.get(f"quota:d:{key_id}:{d.isoformat()}") for d in dates]
        except Exception:
            values = [None] * len(dates)
        out[key_id] = [(d, int(v or 0)) for d, v in zip(dates, values, strict=True)]  # type: ignore[call-overload]
    return out
