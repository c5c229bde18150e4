"""What every API call does first: find its key, count it, and say how much quota is left.

The key travels as `key=` (legacy and modern) or `Authorization: Bearer <key>` (modern). Counting
and the key's record live in Redis (`accounts.api_keys.pass_gate`, which also documents what
happens when Redis is away). A call the WSGI hot path (`scoring.api.hot_path`) already gated
carries its Gate in the request's environ, so it is counted once.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from accounts.api_keys import Gate, pass_gate
from scoring.api.documents import document_prefix, epoch_key

# The environ key under which the hot path hands a counted call's Gate to Django (a server-side
# name: clients' headers arrive as HTTP_*, so no request can forge it).
CARRIED_GATE = "klout.api_gate"


def key_of(request: HttpRequest) -> str | None:
    """The API key of a request: a Bearer token, else the `key` query parameter."""
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return request.GET.get("key") or None


def cacheable_id(klout_id: str) -> bool:
    """Whether a kloutId can name a cached answer (a decimal string of at most 19 digits)."""
    return 0 < len(klout_id) <= 19 and klout_id.isascii() and klout_id.isdigit()


def gate(
    request: HttpRequest,
    *,
    klout_id: str = "",
    field: str = "",
    klout_ids: list[str] | None = None,
    redis_only: bool = False,
) -> Gate:
    """Check and count the call; with a kloutId (or several), also read their cached answers."""
    carried = request.META.pop(CARRIED_GATE, None)
    if carried is not None:
        return carried
    ids = klout_ids if klout_ids is not None else [klout_id] if klout_id else []
    if field and ids and all(cacheable_id(i) for i in ids):
        return pass_gate(
            key_of(request),
            epoch_key=epoch_key(),
            document_prefix=document_prefix(),
            documents=ids,
            field=field,
            redis_only=redis_only,
        )
    return pass_gate(key_of(request), redis_only=redis_only)


def rate_limit_headers(response: HttpResponse, result: Gate) -> HttpResponse:
    """IETF RateLimit headers (draft-ietf-httpapi-ratelimit-headers), for the tighter window."""
    if result.key is None or not result.counted:
        return response
    second_left = max(result.key.per_second - result.second_calls, 0)
    day_left = max(result.key.per_day - result.day_calls, 0)
    response["RateLimit-Policy"] = (
        f'"second";q={result.key.per_second};w=1, "day";q={result.key.per_day};w=86400'
    )
    if second_left == 0 or day_left == 0:
        left, reset = (0, 1) if second_left == 0 else (0, result.day_resets_in)
        name = "second" if second_left == 0 else "day"
    elif second_left / result.key.per_second <= day_left / result.key.per_day:
        left, reset, name = second_left, 1, "second"
    else:
        left, reset, name = day_left, result.day_resets_in, "day"
    response["RateLimit"] = f'"{name}";r={left};t={reset}'
    return response


def retry_after(result: Gate) -> int:
    """Seconds until the exhausted quota frees up."""
    if result.over_day:
        return max(result.day_resets_in, 1)
    return 1
