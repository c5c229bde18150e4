"""Celery tasks for scoring: thin, ids in, one service call each."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from scoring import services


@shared_task(name="scoring.compute_day")
def compute_day(day: str, version_name: str | None = None) -> int:
    """Score one day (ISO date) and return the run id; re-running is harmless."""
    run = services.compute_day(day=dt.date.fromisoformat(day), version_name=version_name)
    return run.pk


@shared_task(name="scoring.score_yesterday")
def score_yesterday() -> int:
    """Nightly: score the day that just ended (UTC) under the current version."""
    yesterday = timezone.now().astimezone(dt.UTC).date() - dt.timedelta(days=1)
    return services.compute_day(day=yesterday).pk


@shared_task(name="scoring.prime_api_documents")
def prime_api_documents(run_id: int) -> int:
    """After a day is published: cache every visible subject's API answers; return how many."""
    from scoring.api.documents import prime_documents

    return prime_documents()
