"""Celery tasks for achievements: thin, ids in, one service call each."""

from __future__ import annotations

from celery import shared_task

from achievements import services


@shared_task(name="achievements.process_published_day", acks_late=True)
def process_published_day(run_id: int) -> dict[str, int]:
    """After a day is published: unlock achievements and send that day's notifications."""
    evaluation, notified = services.process_published_day(run_id=run_id)
    return {"people": evaluation.people, "unlocked": evaluation.unlocked, "notified": notified}
