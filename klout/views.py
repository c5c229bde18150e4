"""Project-level pages: the landing page and a health check."""

from __future__ import annotations

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from klout.http import HtmxHttpRequest


@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    """Signed-in people go to their dashboard; everyone else sees what Klout is."""
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "klout/home.html")


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return False
    return True


def _cache_state() -> str:
    ping = getattr(cache, "ping", None)
    if ping is None:
        return "in-process"  # development: a per-process memory cache
    return "ok" if ping() else "down"


def _broker_state() -> str:
    from klout.celery import app

    if app.conf.task_always_eager:
        return "in-process"  # development: tasks run inside the request
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=1)
    except Exception:
        return "down"
    return "ok"


@require_GET
def healthz(request: HtmxHttpRequest) -> JsonResponse:
    """Database, cache and broker reachability. Load balancers use the HTTP status, which follows
    the database alone (503 without it): pages work without the cache and the broker, and
    "status": "degraded" is for alerts."""
    checks = {"database": "ok" if _database_ok() else "down"}
    checks["cache"] = _cache_state()
    checks["broker"] = _broker_state()
    if checks["database"] != "ok":
        status = "down"
    elif "down" in checks.values():
        status = "degraded"
    else:
        status = "ok"
    return JsonResponse({"status": status, **checks}, status=503 if status == "down" else 200)
