"""The staff page for held scoring runs: see why a day was held, then publish or discard it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from klout.http import AuthedHttpRequest
from scoring import services
from scoring.models import RunStatus, ScoringRun


@require_GET
@staff_member_required
def staff_runs(request: AuthedHttpRequest) -> HttpResponse:
    """Held runs, newest first, with the guard's reason and the decision buttons."""
    recent = ScoringRun.objects.select_related("version", "decided_by").order_by("-day", "-pk")
    return render(
        request,
        "scoring/staff_runs.html",
        {"held": services.held_runs(), "recent": recent.exclude(status=RunStatus.HELD)[:14]},
    )


@require_POST
@staff_member_required
def staff_run_decide(request: AuthedHttpRequest, run_id: int, action: str) -> HttpResponse:
    """Publish or discard one held run."""
    if action not in ("publish", "discard"):
        raise Http404("unknown decision")
    run = get_object_or_404(ScoringRun, pk=run_id, status=RunStatus.HELD)
    if action == "publish":
        services.publish_run(run_id=run.pk, user_id=request.user.pk)
        messages.success(request, f"Published the scores of {run.day}.")
    else:
        services.discard_run(run_id=run.pk, user_id=request.user.pk)
        messages.info(request, f"Discarded the scores of {run.day}.")
    return redirect("staff_runs")
