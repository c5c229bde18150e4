"""Celery tasks: thin, ids in, one service call (STYLE.md rule 6)."""

from __future__ import annotations

from celery import shared_task

from networks import services
from networks.importers import ImportFormatError


@shared_task(name="networks.import_dataset")
def import_dataset(sync_run_id: int) -> None:
    """Run a recorded import; a bad file is recorded on the SyncRun, not retried."""
    try:
        services.run_import(sync_run_id=sync_run_id)
    except (ImportFormatError, services.ImportAborted):
        return
