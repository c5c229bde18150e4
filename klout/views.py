"""Project-level pages: the landing page and a health check."""

from __future__ import annotations

from django.db import connection
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


@require_GET
def healthz(request: HtmxHttpRequest) -> JsonResponse:
    """Liveness and database reachability for load balancers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@require_GET
def livez(request: HtmxHttpRequest) -> JsonResponse:
    """Liveness only (no database): the process answers. Also the API benchmark's bare view."""
    return JsonResponse({"status": "ok"})
