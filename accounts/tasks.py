"""Celery tasks of accounts: thin, ids in, one service call."""

from __future__ import annotations

from celery import shared_task

from accounts import services
from accounts.models import ExportJob
from accounts.token_refresh import RefreshFailed
from klout.queueing import queue_on_commit


@shared_task(
    name="accounts.export_user_data", acks_late=True, soft_time_limit=29 * 60, time_limit=30 * 60
)
def export_user_data(job_id: int) -> int:
    """Build a person's data export."""
    return services.export_user_data(job_id=job_id).pk


def start_export(*, user_id: int) -> ExportJob:
    """Create an export job and queue its task (the job fails at once if the broker is away)."""
    job = services.create_export_job(user_id=user_id)
    queue_on_commit(
        export_user_data,
        job.pk,
        undo=lambda reason: services.fail_export(job_id=job.pk, reason=reason),
    )
    return job


@shared_task(
    name="accounts.refresh_expiring_credentials",
    acks_late=True,
    soft_time_limit=9 * 60,
    time_limit=10 * 60,
)
def refresh_expiring_credentials() -> dict[str, int]:
    """Refresh every credential close to expiry."""
    return services.refresh_expiring_credentials()


@shared_task(
    name="accounts.refresh_credential",
    acks_late=True,
    autoretry_for=(RefreshFailed,),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=50,
    time_limit=60,
)
def refresh_credential(credential_id: int) -> int:
    """Refresh one credential, retrying transient provider failures with backoff."""
    return services.refresh_credential(credential_id=credential_id).pk


@shared_task(
    name="accounts.send_weekly_digests", acks_late=True, soft_time_limit=29 * 60, time_limit=30 * 60
)
def send_weekly_digests() -> int:
    """E-mail the weekly digest to everyone who wants it."""
    from accounts.digests import send_weekly_digests as send

    return send()
