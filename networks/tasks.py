"""Celery tasks: thin, ids in, one service call (STYLE.md rule 6)."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings

from networks import services
from networks.importers import ImportFormatError
from networks.providers import ProviderError

MAX_SYNC_RETRIES = 5
FOLLOW_UP_SECONDS = 15  # gap before continuing a catch-up the page budget cut short


@shared_task(name="networks.import_dataset")
def import_dataset(sync_run_id: int) -> None:
    """Run a recorded import; a bad file is recorded on the SyncRun, not retried."""
    try:
        services.run_import(sync_run_id=sync_run_id)
    except (ImportFormatError, services.ImportAborted):
        return


@shared_task(name="networks.sync_account", bind=True, max_retries=MAX_SYNC_RETRIES)
def sync_account(self: Any, account_id: int, sync_run_id: int | None = None) -> None:
    """Sync one linked account; transient failures retry with the provider's wait or backoff."""
    try:
        run = services.sync_account(account_id=account_id, sync_run_id=sync_run_id)
    except services.SyncBusy:
        return
    except ProviderError as exc:
        # Only transient errors reach here (permanent ones are recorded and swallowed).
        wait = exc.retry_after if exc.retry_after is not None else 60 * 2**self.request.retries
        raise self.retry(
            exc=exc, countdown=min(wait, settings.KLOUT_MAX_RETRY_DELAY_SECONDS)
        ) from exc
    if services.sync_unfinished(run):
        # The page budget ran out mid catch-up: continue soon, not at the next scheduled sync.
        sync_account.apply_async((account_id,), countdown=FOLLOW_UP_SECONDS)


@shared_task(name="networks.sync_all_linked_accounts")
def sync_all_linked_accounts() -> int:
    """Queue an incremental sync for every linked account (the beat schedule runs this)."""
    ids = services.syncable_accounts()
    for account_id in ids:
        sync_account.delay(account_id)
    return len(ids)
