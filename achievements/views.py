"""Achievement pages: all achievements with who holds them, a person's own, the medal art, and
the dashboard's "how to improve" card."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from accounts.time_zones import zone_for
from achievements import queries
from achievements.art import medal_svg
from achievements.improve import improvement_for
from achievements.rules import RULES
from klout.http import AuthedHttpRequest, HtmxHttpRequest


@require_GET
def index(request: HtmxHttpRequest) -> HttpResponse:
    """Every achievement, its levels, and the share of people holding each level."""
    cards = None
    if request.user.is_authenticated:
        cards = queries.person_cards(request.user.pk)
    ctx = {"holdings": queries.holdings(), "cards": cards}
    return render(request, "achievements/index.html", ctx)


@require_GET
@login_required
def mine(request: AuthedHttpRequest) -> HttpResponse:
    """The signed-in person's achievements with progress (the dashboard loads the fragment)."""
    ctx = {"cards": queries.person_cards(request.user.pk)}
    template = "achievements/mine.html"
    if request.htmx:
        template += "#my-achievements"
    return render(request, template, ctx)


@require_GET
@login_required
def improve(request: AuthedHttpRequest) -> HttpResponse:
    """How to improve: what draws action for the person, with the numbers behind each line."""
    ctx = {"improvement": improvement_for(request.user.pk, zone=zone_for(request))}
    template = "achievements/improve.html"
    if request.htmx:
        template += "#improve"
    return render(request, template, ctx)


@require_GET
def person(request: HtmxHttpRequest, user_id: int) -> HttpResponse:
    """A person's unlocked achievements for their public profile (held levels only, no figures).

    Opted-out and inactive people do not exist here (404), like everywhere public.
    """
    owner = get_object_or_404(get_user_model(), pk=user_id, is_active=True, opted_out=False)
    ctx = {"owner": owner, "held": queries.held_achievements(owner.pk)}
    template = "achievements/person.html"
    if request.htmx:
        template += "#person-achievements"
    return render(request, template, ctx)


@require_GET
@cache_control(public=True, max_age=86400)
def art(request: HtmxHttpRequest, key: str, level: int) -> HttpResponse:
    """The medal of one achievement at one level (0 = locked), drawn as SVG."""
    index = next((i for i, rule in enumerate(RULES) if rule.key == key), None)
    if index is None or not 0 <= level <= 3:
        raise Http404("No such achievement or level.")
    return HttpResponse(medal_svg(RULES[index], level, index=index), content_type="image/svg+xml")
