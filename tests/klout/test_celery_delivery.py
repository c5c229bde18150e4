"""Celery delivery: Redis does not redeliver healthy long tasks, and a task that keeps killing its
worker is given up after a bounded number of deliveries, failed with a reason."""

from __future__ import annotations

import pytest
from celery.exceptions import Reject
from django.conf import settings

from accounts.models import ExportJob, ExportStatus
from klout.celery import app as celery_app
from networks.models import SyncRun, SyncStatus
from networks.tasks import import_dataset, sync_account
from tests.factories.accounts import UserFactory
from tests.factories.networks import NetworkAccountFactory

pytestmark = pytest.mark.django_db


def test_the_visibility_timeout_outlasts_the_longest_task_and_retry_delay() -> None:
    celery_app.loader.import_default_modules()
    ours = [t for name, t in celery_app.tasks.items() if not name.startswith("celery.")]
    assert ours
    longest = max(t.time_limit or celery_app.conf.task_time_limit for t in ours)
    timeout = celery_app.conf.broker_transport_options["visibility_timeout"]

    assert timeout > longest
    assert timeout > settings.KLOUT_MAX_RETRY_DELAY_SECONDS


def _deliver(task, task_id: str, args: tuple) -> None:
    """What a worker does before running a (re)delivered message."""
    task.push_request(id=task_id, args=args, retries=0, is_eager=False, called_directly=False)
    try:
        task.before_start(task_id, args, {})
    finally:
        task.pop_request()


def test_an_import_that_keeps_killing_its_worker_is_failed_with_a_reason() -> None:
    run = SyncRun.objects.create(source="huge.json", format="mastodon_outbox", path="huge.json")
    for _ in range(settings.KLOUT_TASK_MAX_DELIVERIES):
        _deliver(import_dataset, "task-import-1", (run.pk,))  # each start, then the worker died

    with pytest.raises(Reject) as rejected:
        _deliver(import_dataset, "task-import-1", (run.pk,))

    assert rejected.value.requeue is False  # type: ignore[attr-defined]
    run.refresh_from_db()
    assert run.status == SyncStatus.FAILED
    assert "worker running it died" in run.errors[0]


def test_a_sync_given_up_releases_the_accounts_lock() -> None:
    account = NetworkAccountFactory.create(network="reddit", external_id="k1")
    from networks.services import start_account_sync

    run = start_account_sync(account_id=account.pk)
    for _ in range(settings.KLOUT_TASK_MAX_DELIVERIES):
        _deliver(sync_account, "task-sync-1", (account.pk, run.pk))
    with pytest.raises(Reject):
        _deliver(sync_account, "task-sync-1", (account.pk, run.pk))

    account.refresh_from_db()
    run.refresh_from_db()
    assert account.sync_started_at is None
    assert run.status == SyncStatus.FAILED


def test_an_export_given_up_is_not_left_pending() -> None:
    from accounts.tasks import export_user_data

    job = ExportJob.objects.create(user=UserFactory.create())
    for _ in range(settings.KLOUT_TASK_MAX_DELIVERIES):
        _deliver(export_user_data, "task-export-1", (job.pk,))
    with pytest.raises(Reject):
        _deliver(export_user_data, "task-export-1", (job.pk,))

    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED
    assert "will not be retried" in job.error


def test_retries_of_a_task_are_not_counted_as_redeliveries() -> None:
    run = SyncRun.objects.create(source="x", format="mastodon_outbox", path="x")
    for retry in range(settings.KLOUT_TASK_MAX_DELIVERIES + 2):
        import_dataset.push_request(id="task-r", retries=retry, is_eager=False)  # type: ignore[call-arg]
        try:
            import_dataset.before_start("task-r", (run.pk,), {})  # never raises
        finally:
            import_dataset.pop_request()

    run.refresh_from_db()
    assert run.status != SyncStatus.FAILED
