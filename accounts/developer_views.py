"""The developer page: a signed-in person's API keys (create, name, rotate, revoke, calls/day).

A key is shown once, in the answer to the request that made it; only its hash is stored.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services
from accounts.api_keys import calls_per_day
from accounts.models import ApiKey
from klout.http import AuthedHttpRequest

SHOWN_DAYS = 7


def _page(
    request: AuthedHttpRequest, *, new_key: str = "", new_key_id: int | None = None, error: str = ""
) -> HttpResponse:
    keys = list(ApiKey.objects.filter(user_id=request.user.pk).order_by("-created_at"))
    today = timezone.now().date()
    counts = calls_per_day([k.pk for k in keys], today=today)
    rows = [
        {
            "key": key,
            "days": counts[key.pk][:SHOWN_DAYS],
            "month": sum(n for _, n in counts[key.pk]),
        }
        for key in keys
    ]
    context = {
        "rows": rows,
        "new_key": new_key,
        "new_key_id": new_key_id,
        "error": error,
        "days": [today - dt.timedelta(days=i) for i in range(SHOWN_DAYS)],
    }
    template = "accounts/developers.html#api-keys" if request.htmx else "accounts/developers.html"
    return render(request, template, context, status=400 if error else 200)


@login_required
@require_http_methods(["GET", "POST"])
def developers(request: AuthedHttpRequest) -> HttpResponse:
    """List the person's keys; a POST with a name creates one and shows it once."""
    if request.method == "POST":
        try:
            key, raw = services.create_api_key(
                name=request.POST.get("name", ""), user_id=request.user.pk
            )
        except services.ApiKeyError as exc:
            return _page(request, error=str(exc))
        return _page(request, new_key=raw, new_key_id=key.pk)
    return _page(request)


@login_required
@require_POST
def rotate_key(request: AuthedHttpRequest, key_id: int) -> HttpResponse:
    """A new secret for one of the person's keys (the old one stops at once)."""
    try:
        key, raw = services.rotate_api_key(key_id=key_id, user_id=request.user.pk)
    except services.ApiKeyError as exc:
        if "No such key" in str(exc):
            raise Http404("No such key.") from None
        return _page(request, error=str(exc))
    return _page(request, new_key=raw, new_key_id=key.pk)


@login_required
@require_POST
def revoke_key(request: AuthedHttpRequest, key_id: int) -> HttpResponse:
    """Stop one of the person's keys for good."""
    try:
        services.revoke_api_key(key_id=key_id, user_id=request.user.pk)
    except services.ApiKeyError:
        raise Http404("No such key.") from None
    return _page(request)


@login_required
@require_POST
def rename_key(request: AuthedHttpRequest, key_id: int) -> HttpResponse:
    """Give one of the person's keys another name."""
    try:
        services.rename_api_key(
            key_id=key_id, user_id=request.user.pk, name=request.POST.get("name", "")
        )
    except services.ApiKeyError as exc:
        if "No such key" in str(exc):
            raise Http404("No such key.") from None
        return _page(request, error=str(exc))
    return _page(request)
