"""File imports: record the run, then stream the file into the store in batches.

Reader -> session -> store -> attach: the importer parses (on a read-ahead thread, where batches
are also prepared), the run's `ImportSession` stores each batch through the merge, and at the end
attaches the months it loaded.
"""

from __future__ import annotations

import datetime as dt
import lzma
import shutil
import zlib
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from klout.queueing import queue_on_commit
from networks.edges import EdgeBlock
from networks.importers import Importer, ImportFormatError, make_importer
from networks.importers.base import Item
from networks.importers.columnar import ColumnarImporter
from networks.models import Network, SyncRun, SyncStatus
from networks.prefetch import prefetch
from networks.records import AccountRecord, BadLine, InteractionRecord, PostRecord
from networks.session import ImportSession
from networks.staging import (
    PreparedBatch,
    prepare_batch,
)
from networks.store import forget_suppressed_accounts

MAX_REPORTED_ERRORS = 20
FORMAT_PROBE_LINES = 20


class ImportAborted(Exception):
    """A strict import met a malformed line; nothing it read was kept."""


def start_import(
    *,
    format: str,
    path: str,
    network: str | None = None,
    kind: str | None = None,
    account: str | None = None,
    strict: bool = False,
    limit: int | None = None,
    sample: int | None = None,
    user_id: int | None = None,
) -> SyncRun:
    """Check the format and file, then record a pending import as a SyncRun."""
    if network is not None and network not in Network.values:
        raise ImportFormatError(f"unknown network {network!r}; one of {', '.join(Network.values)}")
    importer = make_importer(format, path, network=network, kind=kind, account=account)
    return SyncRun.objects.create(
        source=f"{format}:{path}"[:255],
        format=format,
        path=str(path),
        network=importer.options.network,
        options={
            "kind": kind,
            "account": account,
            "strict": strict,
            "limit": limit,
            "sample": sample,
        },
        user_id=user_id,
    )


def run_import(
    *,
    sync_run_id: int,
    batch_size: int = 100_000,
    on_progress: Callable[[float, SyncRun], None] | None = None,
) -> SyncRun:
    """Stream the run's file into the store in committed batches (one transaction if strict)."""
    run = SyncRun.objects.get(pk=sync_run_id)
    options = run.options or {}
    strict = bool(options.get("strict"))
    try:
        importer = make_importer(
            run.format,
            run.path,
            network=run.network or None,
            kind=options.get("kind"),
            account=options.get("account"),
        )
        with ImportSession(run_id=run.pk, network=run.network, strict=strict) as session:
            if strict:
                with transaction.atomic():
                    _feed(run, importer, batch_size, options, on_progress, session)
                    _attach(run, session)
            else:
                try:
                    _feed(run, importer, batch_size, options, on_progress, session)
                except BaseException:
                    # What was read stays, as with committed batches (a kill leaves it
                    # detached, and the next import drops it).
                    with suppress(DatabaseError):
                        _attach(run, session)
                    raise
                _attach(run, session)
    except (ImportFormatError, ImportAborted) as exc:
        _finish_run(run, SyncStatus.FAILED, error=str(exc), keep_counts=not strict)
        raise
    except Exception as exc:
        _finish_run(run, SyncStatus.FAILED, error=f"{type(exc).__name__}: {exc}", keep_counts=True)
        raise
    finally:
        _remove_upload(run)
    if run.network:
        # Bulk loads stamp accounts to the second: look from the second before the run began.
        since = run.started_at.replace(microsecond=0) - dt.timedelta(seconds=1)
        forget_suppressed_accounts(network=run.network, since=since)
    _finish_run(run, SyncStatus.SUCCEEDED)
    run.refresh_from_db()
    return run


def _attach(run: SyncRun, session: ImportSession) -> None:
    """Attach the session's loaded months; rows dropped there are counted as skipped."""
    dropped = session.attach()
    if dropped:
        SyncRun.objects.filter(pk=run.pk).update(
            inserted_count=F("inserted_count") - dropped,
            skipped_count=F("skipped_count") + dropped,
        )


@dataclass(slots=True)
class Batch:
    """Records read for one batch, before it is prepared."""

    accounts: list[AccountRecord] = field(default_factory=list)
    posts: list[PostRecord] = field(default_factory=list)
    interactions: list[InteractionRecord] = field(default_factory=list)
    blocks: list[EdgeBlock] = field(default_factory=list)  # interactions read as columns

    @property
    def interaction_count(self) -> int:
        return len(self.interactions) + sum(map(len, self.blocks))

    def __len__(self) -> int:
        return len(self.accounts) + len(self.posts) + self.interaction_count


@dataclass
class _Read:
    """A batch read off the file, with the counts as they stood when it was cut."""

    batch: PreparedBatch
    read: int
    rejected: int
    errors: list[str]
    progress: float


def _read_batches(
    importer: Importer, batch_size: int, options: dict[str, Any], *, postgres: bool
) -> Iterator[_Read]:
    """Parse, count, sample and cut batches, each prepared for the merge.

    No database here: this runs on the read-ahead thread. Raises ImportAborted or
    ImportFormatError as the file warrants.
    """
    network = importer.options.network
    strict, limit = bool(options.get("strict")), options.get("limit")
    # Every nth interaction (demo slices); keys are those of a full import, so one fills the rest.
    sample = max(1, int(options.get("sample") or 1))
    seen = rejected = read = good = 0
    batch = Batch()
    errors: list[str] = []

    def cut(final: bool = False) -> _Read:
        nonlocal batch
        prepared = prepare_batch(
            network,
            batch.accounts,
            batch.posts,
            batch.interactions,
            postgres=postgres,
            blocks=batch.blocks,
        )
        batch = Batch()
        progress = 1.0 if final else importer.progress.fraction()
        return _Read(prepared, read, rejected, list(errors), progress)

    # Bulk edge lists are read as columnar blocks where the rows can go to PostgreSQL as such.
    items: Iterator[EdgeBlock | Item]
    if postgres and isinstance(importer, ColumnarImporter) and importer.columnar:
        items = importer.parse_columnar()
    else:
        items = importer.parse()
    for item in items:
        if isinstance(item, EdgeBlock):
            good += len(item)
            if limit is not None and read >= limit:
                break
            # the same rows the record path keeps: every `sample`th interaction, up to `limit`
            position = np.arange(seen, seen + len(item))
            seen += len(item)
            kept = np.flatnonzero(position % sample == 0)
            if limit is not None:
                kept = kept[: limit - read]
            if len(kept) < len(item):
                item = item.take(kept)
            start = 0
            while start < len(item):  # batches keep their size: a block may fill several
                room = batch_size - batch.interaction_count
                piece = item.take(slice(start, start + room))
                start += len(piece)
                read += len(piece)
                batch.blocks.append(piece)
                if batch.interaction_count >= batch_size:
                    yield cut()
            continue
        if isinstance(item, BadLine):
            message = f"line {item.line}: {item.message}"
            if strict:
                raise ImportAborted(f"{importer.path.name} {message} (--strict: nothing kept)")
            rejected += 1
            if len(errors) < MAX_REPORTED_ERRORS:
                errors.append(message)
            if good == 0 and rejected >= FORMAT_PROBE_LINES:
                raise ImportFormatError(
                    f"{importer.path.name} does not look like a {importer.description}: {errors[0]}"
                )
            continue
        good += 1
        if isinstance(item, InteractionRecord):
            if limit is not None and read >= limit:
                break
            seen += 1
            if (seen - 1) % sample:
                continue
            read += 1
            batch.interactions.append(item)
        elif isinstance(item, PostRecord):
            batch.posts.append(item)
        else:
            batch.accounts.append(item)
        if batch.interaction_count >= batch_size or len(batch) >= 2 * batch_size:
            yield cut()
    if good == 0 and rejected:
        raise ImportFormatError(
            f"{importer.path.name} does not look like a {importer.description}: {errors[0]}"
        )
    yield cut(final=True)


def _feed(
    run: SyncRun,
    importer: Importer,
    batch_size: int,
    options: dict[str, Any],
    on_progress: Callable[[float, SyncRun], None] | None,
    session: ImportSession,
) -> None:
    """Store the file batch by batch; reading and preparing run one batch ahead on a thread."""
    batches = _read_batches(
        importer, batch_size, options, postgres=connection.vendor == "postgresql"
    )
    try:
        for got in prefetch(batches, chunk=1, depth=1):
            result = session.store(got.batch, sync_run=run)
            SyncRun.objects.filter(pk=run.pk).update(
                read_count=got.read,
                rejected_count=got.rejected,
                errors=got.errors,
                progress=got.progress,
            )
            run.read_count, run.rejected_count, run.progress = got.read, got.rejected, got.progress
            run.inserted_count += result.interactions_inserted
            run.skipped_count += result.interactions_skipped
            if on_progress is not None:
                on_progress(got.progress, run)
    except (OSError, EOFError, lzma.LZMAError, zlib.error, UnicodeError) as exc:
        raise ImportFormatError(f"{importer.path.name}: cannot read ({exc})") from None


def _finish_run(
    run: SyncRun, status: str, *, error: str | None = None, keep_counts: bool = True
) -> None:
    fields: dict[str, object] = {"status": status, "finished_at": timezone.now()}
    if error is not None:
        errors = list(run.errors or []) if keep_counts else []
        fields["errors"] = [error, *errors][:MAX_REPORTED_ERRORS]
    if not keep_counts:
        fields.update(inserted_count=0, skipped_count=0, progress=0.0)
    SyncRun.objects.filter(pk=run.pk).update(**fields)


# --- uploaded archives, queueing ----------------------------------------------------------------


def uploads_folder(user_id: int) -> Path:
    """Where a person's uploaded archives wait for their import."""
    return Path(settings.MEDIA_ROOT) / "imports" / str(user_id)


def remove_uploads_of_user(*, user_id: int) -> None:
    """Delete every uploaded file of the person (on deletion)."""
    shutil.rmtree(uploads_folder(user_id), ignore_errors=True)


def _remove_upload(run: SyncRun) -> None:
    """An uploaded archive is deleted once its import is over (datasets named by path stay)."""
    uploads = (Path(settings.MEDIA_ROOT) / "imports").resolve()
    path = Path(run.path).resolve()
    if run.user_id is not None and path.is_relative_to(uploads):
        path.unlink(missing_ok=True)


def queue_import(*, run: SyncRun) -> None:
    """Queue a recorded import; if the broker is down the run fails with the reason and its
    uploaded file is removed (QueueUnavailable is raised)."""
    from networks import tasks

    def undo(reason: str) -> None:
        SyncRun.objects.filter(pk=run.pk).update(
            status=SyncStatus.FAILED, finished_at=timezone.now(), errors=[reason]
        )
        _remove_upload(run)

    queue_on_commit(tasks.import_dataset, run.pk, undo=undo)


def give_up_run(*, sync_run_id: int, reason: str) -> None:
    """An import whose task kept killing its worker: failed with the reason, upload removed."""
    run = SyncRun.objects.filter(pk=sync_run_id).first()
    if run is None:
        return
    SyncRun.objects.filter(pk=run.pk).update(
        status=SyncStatus.FAILED, finished_at=timezone.now(), errors=[reason]
    )
    _remove_upload(run)
