"""Settings pages: linked accounts and privacy."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from klout.http import AuthedHttpRequest


@require_GET
@login_required
def linked_accounts(request: AuthedHttpRequest) -> HttpResponse:
    """List the networks the person linked, with sync state."""
    return render(request, "accounts/linked_accounts.html")
