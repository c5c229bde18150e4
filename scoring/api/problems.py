"""Errors of the modern API as RFC 9457 problem details (`application/problem+json`)."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from rest_framework import exceptions
from rest_framework.views import exception_handler

PROBLEM = "application/problem+json"
TITLES = {
    400: "Bad request",
    401: "API key required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    429: "Too many requests",
    500: "Server error",
}


def problem(
    status: int, detail: str, *, instance: str = "", headers: dict[str, str] | None = None
) -> HttpResponse:
    """A problem+json response; `type` names the problem on our API docs page."""
    body: dict[str, Any] = {
        "type": f"/api/docs/#problem-{status}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    response = HttpResponse(
        json.dumps(body, separators=(",", ":")), status=status, content_type=PROBLEM
    )
    response["Access-Control-Allow-Origin"] = "*"
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def drf_exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponse | None:
    """DRF's errors (bad methods, unparsable requests...) as problem details too."""
    response = exception_handler(exc, context)
    if response is None:
        return None
    detail = getattr(exc, "detail", None)
    text = str(detail) if isinstance(detail, str) else json.dumps(detail)
    headers = {}
    wait = getattr(exc, "wait", None)
    if isinstance(exc, exceptions.Throttled) and wait:
        headers["Retry-After"] = str(int(wait))
    if "Allow" in response:
        headers["Allow"] = response["Allow"]
    request = context.get("request")
    return problem(
        response.status_code, text, instance=request.path if request else "", headers=headers
    )


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Unknown paths under /api/ answer problem details, not the site's HTML page."""
    return problem(404, "There is no such API path.", instance=request.path)
