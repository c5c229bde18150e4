"""Staff tools for scores: held runs with their reason, publish or discard them."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from scoring import services
from scoring.models import AlgorithmVersion, RunStatus, ScoringRun


@admin.register(AlgorithmVersion)
class AlgorithmVersionAdmin(admin.ModelAdmin):
    list_display = ("name", "is_current", "created_at")
    readonly_fields = ("name", "calibration", "created_at")


@admin.register(ScoringRun)
class ScoringRunAdmin(admin.ModelAdmin):
    list_display = ("day", "version", "status", "held_reason", "progress", "decided_by")
    list_filter = ("status", "version")
    date_hierarchy = "day"
    readonly_fields = tuple(f.name for f in ScoringRun._meta.fields)
    actions = ("publish_runs", "discard_runs")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # runs come from compute_day only

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # discard instead: the run stays as an audit trail

    @admin.action(description="Publish the selected held runs")
    def publish_runs(self, request: HttpRequest, queryset: QuerySet[ScoringRun]) -> None:
        for run in queryset.filter(status__in=[RunStatus.HELD, RunStatus.COMPUTING]):
            services.publish_run(run_id=run.pk, user_id=request.user.pk)
            self.message_user(request, f"Published {run.day}.", messages.SUCCESS)

    @admin.action(description="Discard the selected runs that are not published")
    def discard_runs(self, request: HttpRequest, queryset: QuerySet[ScoringRun]) -> None:
        for run in queryset.exclude(status=RunStatus.PUBLISHED):
            services.discard_run(run_id=run.pk, user_id=cast(int, request.user.pk))
            self.message_user(request, f"Discarded {run.day}.", messages.WARNING)
