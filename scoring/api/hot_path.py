"""The API's hot path: cached single and bulk lookups answered at WSGI level.

For exactly `GET /v2/user.json/{kloutId}[/score|/topics|/influence]`,
`GET /api/v1/subjects/{kloutId}` and `GET /api/v1/subjects?ids=...`, a request that Django's
middleware would let through untouched is answered without Django's request cycle (the
middleware stack, URL resolution, DRF's dispatch): one Redis round trip (the gate script: the
key, both quotas, the privacy epoch and the answers pre-serialised at publish), then the views'
own response builders, then the response side of the middleware that adds headers to these
answers (security headers, X-Frame-Options, CSP, Content-Length) and, for the legacy paths, gzip.

Everything else goes to Django unchanged: another path or method, a cookie (sessions, CSRF and
messages may act on one), an `Accept` or `format=` DRF would negotiate, a host Django refuses, an
http request it would redirect to https. Once the call has been counted, its Gate travels along in
the environ (`access.CARRIED_GATE`) and the view answers from it, so a refusal (403, 401, 429), an
unknown or hidden subject (404) or an answer not cached (read from the database) costs one count.
When the key's record is not cached in Redis, or Redis is away, nothing was counted and Django does
all of it, the fallback to the database included.

Speed-only complexity behind one object (STYLE.md rule 13): `tests/scoring/api/test_hot_path.py`
sends the same requests through this and through Django alone and compares statuses, headers and
bodies.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any, cast

from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.middleware.csp import ContentSecurityPolicyMiddleware
from django.middleware.gzip import GZipMiddleware
from django.middleware.security import SecurityMiddleware
from django.utils.cache import patch_vary_headers

from accounts.api_keys import Gate, NeedsDatabase
from scoring.api import legacy, modern
from scoring.api.access import CARRIED_GATE, cacheable_id, gate, rate_limit_headers

logger = logging.getLogger(__name__)

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

LEGACY = re.compile(r"/v2/user\.json/([0-9]{1,19})(/score|/topics|/influence)?")
MODERN = re.compile(r"/api/v1/subjects/([0-9]{1,19})")
BULK = "/api/v1/subjects"
LEGACY_FIELDS = {
    "": "v2user",
    "/score": "v2score",
    "/topics": "v2topics",
    "/influence": "v2influence",
}
# Accept values DRF's content negotiation answers with JSON; anything else is left to DRF.
ACCEPTED = frozenset({"", "*/*", "application/*", "application/json"})


def _nothing(request: HttpRequest) -> HttpResponseBase:
    raise AssertionError("the hot path calls middleware hooks, never the chain")


class ApiHotPath:
    """WSGI middleware in front of Django for the cached lookups (module docstring)."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self.security = SecurityMiddleware(_nothing)
        self.common = CommonMiddleware(_nothing)
        self.xframe = XFrameOptionsMiddleware(_nothing)
        self.csp = ContentSecurityPolicyMiddleware(_nothing)
        self.gzip = GZipMiddleware(_nothing)
        # What DRF's finalize_response adds to every answer of these views (Allow, Vary: Accept).
        drf_view = modern.subject.cls()
        drf_view.setup(HttpRequest())
        self.drf_headers: dict[str, str] = drf_view.default_response_headers

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        response = None
        if environ.get("REQUEST_METHOD") == "GET" and not environ.get("HTTP_COOKIE"):
            try:
                response = self._answer(environ)
            except NeedsDatabase:  # nothing was counted: Django does all of it
                response = None
            except Exception:  # before the count (after it, `_answer` hands the Gate on)
                logger.exception("API hot path failed; Django answers instead")
                response = None
        if response is None:
            return self.app(environ, start_response)
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        return [response.content]

    def _answer(self, environ: Environ) -> HttpResponse | None:
        path = environ.get("PATH_INFO", "")
        if match := LEGACY.fullmatch(path):
            kind, ids, field = "legacy", [match[1]], LEGACY_FIELDS[match[2] or ""]
        elif match := MODERN.fullmatch(path):
            kind, ids, field = "modern", [match[1]], "modern"
        elif path == BULK:
            kind, ids, field = "bulk", [], "modern"
        else:
            return None
        request = WSGIRequest(environ)
        if not self._django_lets_through(request, drf=kind != "legacy"):
            return None
        if kind == "bulk":
            ids = modern.bulk_ids(request.GET.get("ids", ""))
            if not ids or len(ids) > modern.BULK_MAX or not all(cacheable_id(i) for i in ids):
                return None  # the view's 400
        result = gate(request, klout_ids=ids, field=field, redis_only=True)
        # Counted from here on: whatever is not answered here goes to the view with its Gate.
        try:
            response = self._respond(request, kind, ids, result)
        except Exception:
            logger.exception("API hot path failed; Django answers instead")
            response = None
        if response is None:
            environ[CARRIED_GATE] = result
        return response

    def _django_lets_through(self, request: HttpRequest, *, drf: bool) -> bool:
        """Whether the request-side middleware would pass this request on untouched."""
        try:
            if self.security.process_request(request) or self.common.process_request(request):
                return False  # a redirect (to https)
        except Exception:  # a disallowed host or user agent: Django's error pages
            return False
        self.csp.process_request(request)
        if drf:
            if "format" in request.GET:
                return False
            accept = request.META.get("HTTP_ACCEPT", "")
            if not any(part.split(";")[0].strip() in ACCEPTED for part in accept.split(",")):
                return False
        return True

    def _respond(
        self, request: HttpRequest, kind: str, ids: list[str], result: Gate
    ) -> HttpResponse | None:
        found = [doc for doc in result.documents if doc is not None]
        if result.key is None or result.over_quota or len(found) != len(ids):
            return None
        response: HttpResponse
        if kind == "legacy":
            response = rate_limit_headers(legacy.respond(request, found[0]), result)
            response = cast(HttpResponse, self.gzip.process_response(request, response))
        else:
            if kind == "modern":
                published, _, body = found[0].partition(b"\n")
                response = modern.json_answer(
                    request, body, result, published=published.decode() or None
                )
            else:
                docs = {kid: doc.partition(b"\n")[2] for kid, doc in zip(ids, found, strict=True)}
                response = modern.json_answer(request, modern.bulk_body(ids, docs), result)
            headers = dict(self.drf_headers)
            if vary := headers.pop("Vary", None):
                patch_vary_headers(response, [v.strip() for v in vary.split(",")])
            for name, value in headers.items():
                response[name] = value
        # The response side of the middleware, innermost first (settings.MIDDLEWARE reversed).
        response = self.csp.process_response(request, response)
        response = self.xframe.process_response(request, response)
        response = cast(HttpResponse, self.common.process_response(request, response))
        return self.security.process_response(request, response)


def with_hot_path(app: WSGIApp) -> WSGIApp:
    """Django's WSGI application behind the API's hot path."""
    return ApiHotPath(app)
