"""Pages for individuals: dashboard, search, leaderboards, about the score."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from klout.http import AuthedHttpRequest, HtmxHttpRequest


@require_GET
@login_required
def dashboard(request: AuthedHttpRequest) -> HttpResponse:
    """The signed-in person's score card, history and explanations."""
    return render(request, "scoring/dashboard.html")


@require_GET
def search(request: HtmxHttpRequest) -> HttpResponse:
    """Find a scored public account by handle or name."""
    return render(request, "scoring/search.html")


@require_GET
def leaderboard(request: HtmxHttpRequest) -> HttpResponse:
    """The highest scores, overall and per network."""
    return render(request, "scoring/leaderboard.html")


@require_GET
def about(request: HtmxHttpRequest) -> HttpResponse:
    """How the score works, in plain words."""
    return render(request, "scoring/about.html")
