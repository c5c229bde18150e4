"""Write paths into the network store. `ingest_batch` is the only way rows get in."""

from __future__ import annotations

import datetime as dt
import lzma
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from networks.columnar import settle
from networks.edges import EdgeBlock
from networks.helper import Helper
from networks.importers import Importer, ImportFormatError, make_importer
from networks.models import (
    Interaction,
    Network,
    NetworkAccount,
    Post,
    SyncRun,
    SyncStatus,
    clean_handle,
)
from networks.partitions import BulkLoad
from networks.prefetch import prefetch
from networks.providers import (
    PROVIDERS,
    Credential,
    CredentialRevoked,
    ProviderError,
    provider_for,
)
from networks.providers.base import parse_resume, readable_cursor
from networks.records import (
    AccountRecord,
    BadLine,
    Batch,
    IngestResult,
    InteractionRecord,
    PostRecord,
)
from networks.signals import accounts_hidden
from networks.staging import (
    Merge,
    PreparedBatch,
    hidden_account_ids,
    prepare_batch,
)

# allauth provider ids -> our networks (providers we do not ingest map to nothing).
PROVIDER_NETWORKS: dict[str, str] = {
    "twitter_oauth2": Network.X,
    "twitter": Network.X,
    "x": Network.X,
    "mastodon": Network.MASTODON,
    "bluesky": Network.BLUESKY,
    "reddit": Network.REDDIT,
    "github": Network.GITHUB,
    "google": Network.YOUTUBE,
    "youtube": Network.YOUTUBE,
    "facebook": Network.FACEBOOK,
    "dev": Network.DEV,
    "devnet": Network.DEV,
}


def ingest_batch(
    *,
    network: str,
    accounts: Sequence[AccountRecord] = (),
    posts: Sequence[PostRecord] = (),
    interactions: Sequence[InteractionRecord] = (),
    sync_run: SyncRun | None = None,
    load: BulkLoad | None = None,
    prepared: PreparedBatch | None = None,
    helper: Helper | None = None,
) -> IngestResult:
    """Store one batch idempotently by source key; hidden accounts' interactions are dropped.

    `prepared` is the batch already through `prepare_batch` (imports do that on their read-ahead
    thread); otherwise the records are prepared here.

    With `load` (a file import on PostgreSQL), interactions of months the store did not hold yet
    go to the import's load tables and appear when `load.finish` attaches them.
    """
    if prepared is None:
        prepared = prepare_batch(
            network, accounts, posts, interactions, postgres=connection.vendor == "postgresql"
        )
    merge = Merge(network, load.names if load is not None else None, helper)
    with transaction.atomic(), connection.cursor() as cursor:
        result = merge.run(cursor, prepared, load)
        if any(a.protected for a in prepared.accounts):
            hide_accounts(account_ids=merge.newly_protected_ids(cursor))
        if sync_run is not None:
            SyncRun.objects.filter(pk=sync_run.pk).update(
                inserted_count=F("inserted_count") + result.interactions_inserted,
                skipped_count=F("skipped_count") + result.interactions_skipped,
            )
    return result


def purge_account(*, account_id: int) -> int:
    """Delete every interaction and post involving a protected or opted-out account; return rows."""
    with transaction.atomic():
        deleted, _ = Interaction.objects.filter(
            Q(actor_id=account_id) | Q(receiver_id=account_id)
        ).delete()
        posts, _ = Post.objects.filter(account_id=account_id).delete()
    return deleted + posts


def hide_accounts(*, account_ids: Sequence[int]) -> int:
    """Accounts just became hidden (by any path): purge their interactions and posts and tell
    higher apps (`accounts_hidden`: scores, read models, privacy epoch); return rows purged."""
    ids = sorted(set(account_ids))
    if not ids:
        return 0
    with transaction.atomic():
        purged = sum(purge_account(account_id=account_id) for account_id in ids)
        accounts_hidden.send(sender=NetworkAccount, account_ids=ids)
    return purged


def set_account_protected(*, account_id: int, protected: bool = True) -> None:
    """Mark an account protected (hiding it everywhere, as on opt-out) or public again."""
    with transaction.atomic():
        NetworkAccount.objects.filter(pk=account_id).update(protected=protected)
        if protected:
            hide_accounts(account_ids=[account_id])


def opt_out_accounts_of_user(*, user_id: int) -> int:
    """Flag every account the person claimed as opted out and hide them; return how many."""
    ids = list(NetworkAccount.objects.filter(user_id=user_id).values_list("pk", flat=True))
    with transaction.atomic():
        NetworkAccount.objects.filter(pk__in=ids).update(opted_out=True)
        hide_accounts(account_ids=ids)
    return len(ids)


def claim_account(
    *, user_id: int, provider: str, uid: str, handle: str = "", external_id: str = ""
) -> NetworkAccount | None:
    """Attach the network account behind a linked social login to its user (creating it if new).

    `external_id` is the account's id in the store when it is not allauth's `uid` (Mastodon: the
    actor URI); the uid is then kept beside it as `login_uid`, for the account's tokens."""
    network = PROVIDER_NETWORKS.get(provider, provider if provider in Network.values else None)
    if network is None:
        return None
    handle = clean_handle(handle)
    external_id = external_id or str(uid)
    login_uid = str(uid) if str(uid) != external_id else ""
    account, created = NetworkAccount.objects.get_or_create(
        network=network,
        external_id=external_id,
        defaults={"user_id": user_id, "handle": handle, "login_uid": login_uid},
    )
    if not created:
        fields: dict[str, object] = {
            "user_id": user_id,
            "needs_reconnect": False,
            "login_uid": login_uid,
        }
        if handle and not account.handle:
            fields["handle"] = handle
        NetworkAccount.objects.filter(pk=account.pk).update(**fields)
        account.refresh_from_db()
    if NetworkAccount.objects.filter(pk=account.pk).hidden().exists():
        hide_accounts(account_ids=[account.pk])  # claimed by a person who opted out
    return account


def unclaim_account(*, user_id: int, provider: str, uid: str, external_id: str = "") -> int:
    """Detach a user's account when they unlink it; the public account itself stays."""
    network = PROVIDER_NETWORKS.get(provider)
    if network is None:
        return 0
    return (
        NetworkAccount.objects.filter(network=network, user_id=user_id)
        .filter(Q(external_id=external_id or str(uid)) | Q(login_uid=str(uid)))
        .update(user=None, needs_reconnect=False)
    )


def claimed_without_login(*, user_id: int) -> list[dict[str, str]]:
    """Visible accounts a person owns that no social login of theirs stands behind (two queries)."""
    from allauth.socialaccount.models import SocialAccount

    linked = {
        (PROVIDER_NETWORKS.get(provider, provider), uid)
        for provider, uid in SocialAccount.objects.filter(user_id=user_id).values_list(
            "provider", "uid"
        )
    }
    return [
        {
            "network": a.network,
            "label": a.get_network_display(),
            "slug": a.slug,
            "handle": a.handle,
            "account_id": str(a.pk),
        }
        for a in NetworkAccount.objects.visible().filter(user_id=user_id).order_by("network", "pk")
        if (a.network, a.credential_uid) not in linked
    ]


def mark_needs_reconnect(*, user_id: int, provider: str, needs: bool = True) -> int:
    """Flag (or clear) the user's accounts on a provider whose credential stopped working."""
    network = PROVIDER_NETWORKS.get(provider)
    if network is None:
        return 0
    return NetworkAccount.objects.filter(user_id=user_id, network=network).update(
        needs_reconnect=needs
    )


def opt_out_network_account(
    *, provider: str, uid: str, external_id: str = ""
) -> NetworkAccount | None:
    """Opt one network account out (creating its row so later imports also skip it) and purge.

    `external_id` is the store's id when it is not allauth's `uid` (Mastodon: the actor URI)."""
    network = PROVIDER_NETWORKS.get(provider, provider if provider in Network.values else None)
    if network is None:
        return None
    with transaction.atomic():
        account, _ = NetworkAccount.objects.get_or_create(
            network=network, external_id=external_id or uid
        )
        NetworkAccount.objects.filter(pk=account.pk).update(opted_out=True)
        hide_accounts(account_ids=[account.pk])
    account.refresh_from_db()
    return account


# --- imports ------------------------------------------------------------------------------------
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
        load = BulkLoad(run.pk) if connection.vendor == "postgresql" else None
        if load is not None:
            load.begin()
        # A second connection for the load's accounts and index builds (not in one transaction:
        # it could not see what the import has not committed).
        helper = Helper() if load is not None and not strict and Helper.usable() else None
        try:
            if strict:
                with transaction.atomic():
                    _feed(run, importer, batch_size, options, on_progress, load)
                    _attach_loaded(run, load)
            else:
                try:
                    _feed(run, importer, batch_size, options, on_progress, load, helper)
                except BaseException:
                    # What was read stays, as with committed batches (a kill leaves it
                    # detached, and the next import drops it).
                    with suppress(DatabaseError):
                        _attach_loaded(run, load, helper)
                    raise
                _attach_loaded(run, load, helper)
        finally:
            if helper is not None:
                helper.close()
            if load is not None:
                load.end()
    except (ImportFormatError, ImportAborted) as exc:
        _finish_run(run, SyncStatus.FAILED, error=str(exc), keep_counts=not strict)
        raise
    except Exception as exc:
        _finish_run(run, SyncStatus.FAILED, error=f"{type(exc).__name__}: {exc}", keep_counts=True)
        raise
    _finish_run(run, SyncStatus.SUCCEEDED)
    run.refresh_from_db()
    return run


def _attach_loaded(run: SyncRun, load: BulkLoad | None, helper: Helper | None = None) -> None:
    """Attach the import's loaded months; rows dropped there are counted as skipped.

    The months' indexes are built while the helper may still be storing accounts (it builds
    its share after them); every loaded row's account exists before anything is attached.
    """
    if load is None:
        return

    def settled() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            settle(cursor, load)

    if not load.tables:
        settled()
        return
    with connection.cursor() as cursor:
        hidden = hidden_account_ids(cursor, run.network)
    dropped = load.finish(sorted(hidden), helper, before_attach=settled)
    if dropped:
        SyncRun.objects.filter(pk=run.pk).update(
            inserted_count=F("inserted_count") - dropped,
            skipped_count=F("skipped_count") + dropped,
        )


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
    items = importer.parse_columnar() if postgres and importer.columnar else importer.parse()
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
    load: BulkLoad | None = None,
    helper: Helper | None = None,
) -> None:
    """Store the file batch by batch; reading and preparing run one batch ahead on a thread.

    On PostgreSQL, outside a transaction, columnar batches store their new accounts on a helper
    connection while this one stores their interactions (see networks.columnar).
    """
    batches = _read_batches(
        importer, batch_size, options, postgres=connection.vendor == "postgresql"
    )
    try:
        for got in prefetch(batches, chunk=1, depth=1):
            if load is not None and load.accounts_deleted():
                # ids it resolved may be gone: settle what is in flight, then resolve afresh
                with transaction.atomic(), connection.cursor() as cursor:
                    settle(cursor, load)
                load.forget_names()
            result = ingest_batch(
                network=importer.options.network,
                prepared=got.batch,
                sync_run=run,
                load=load,
                helper=helper,
            )
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


# --- live syncs ---------------------------------------------------------------------------------
SYNC_STALE_AFTER = dt.timedelta(hours=1)  # a sync "running" longer than this crashed; take over


class SyncBusy(Exception):
    """Another sync of the same account is running."""


def _refuse_credential(account: NetworkAccount, *, reason: str) -> None:
    """A sync was refused with the stored token: the person's link shows "needs reconnect"."""
    from accounts.services import mark_credential_refused

    if account.user_id is None:
        return
    for provider, network in PROVIDER_NETWORKS.items():
        if network == account.network:
            mark_credential_refused(
                user_id=account.user_id,
                provider=provider,
                uid=account.credential_uid,
                reason=reason,
            )


def _credential_for(account: NetworkAccount) -> Credential | None:
    from accounts.crypto import decrypt_token
    from accounts.models import ProviderCredential

    if account.user_id is None:
        return None
    providers = [p for p, n in PROVIDER_NETWORKS.items() if n == account.network]
    credential = (
        ProviderCredential.objects.filter(
            user_id=account.user_id, provider__in=providers, uid=account.credential_uid
        )
        .order_by("-updated_at")
        .first()
    )
    if credential is None or credential.needs_reconnect:
        return None
    return Credential(access_token=decrypt_token(credential.access_token_enc))


def start_account_sync(*, account_id: int) -> SyncRun:
    """Take the account's sync lock and record a running SyncRun; SyncBusy if one runs already."""
    now = timezone.now()
    # The conditional update is the lock: only one caller can flip sync_started_at.
    taken = (
        NetworkAccount.objects.filter(pk=account_id)
        .filter(Q(sync_started_at__isnull=True) | Q(sync_started_at__lt=now - SYNC_STALE_AFTER))
        .update(sync_started_at=now)
    )
    if not taken:
        raise SyncBusy(f"account {account_id} is already syncing")
    account = NetworkAccount.objects.get(pk=account_id)
    return SyncRun.objects.create(
        source=f"provider:{account.network}",
        format="provider",
        network=account.network,
        account=account,
        user_id=account.user_id,
        cursor=account.sync_cursor,
    )


def sync_account(*, account_id: int, sync_run_id: int | None = None) -> SyncRun:
    """Fetch what happened to a linked account since its cursor and ingest it (one at a time)."""
    run = (
        SyncRun.objects.get(pk=sync_run_id)
        if sync_run_id is not None
        else start_account_sync(account_id=account_id)
    )
    account = NetworkAccount.objects.get(pk=account_id)
    try:
        provider = provider_for(account.network)
        credential = _credential_for(account) if provider is not None else None
        if provider is None or credential is None:
            reason = "no live API for this network" if provider is None else "no working token"
            _end_sync(account, run, SyncStatus.FAILED, error=reason)
            return run
        SyncRun.objects.filter(pk=run.pk).update(progress=0.3)
        # An unreadable stored position starts over (idempotent) rather than failing forever.
        cursor = readable_cursor(account.sync_cursor)
        fetched = provider.fetch_since(account, credential, cursor)
        SyncRun.objects.filter(pk=run.pk).update(progress=0.7)
        result = ingest_batch(
            network=account.network,
            accounts=fetched.accounts,
            posts=fetched.posts,
            interactions=fetched.interactions,
            sync_run=run,
        )
        SyncRun.objects.filter(pk=run.pk).update(
            read_count=result.interactions_read, cursor=fetched.next_cursor
        )
        _end_sync(account, run, SyncStatus.SUCCEEDED, cursor=fetched.next_cursor, result=result)
    except CredentialRevoked as exc:
        _end_sync(account, run, SyncStatus.FAILED, error=str(exc), revoked=True)
        _refuse_credential(account, reason=str(exc))
    except ProviderError as exc:
        _end_sync(account, run, SyncStatus.FAILED, error=str(exc))
        if exc.transient:
            raise
    except Exception as exc:
        _end_sync(account, run, SyncStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
        raise
    run.refresh_from_db()
    return run


def sync_unfinished(run: SyncRun) -> bool:
    """Whether a successful sync stopped at its page budget with older activity still to fetch."""
    return run.status == SyncStatus.SUCCEEDED and parse_resume(run.cursor or "") is not None


def _end_sync(
    account: NetworkAccount,
    run: SyncRun,
    status: str,
    *,
    error: str = "",
    cursor: str | None = None,
    result: IngestResult | None = None,
    revoked: bool = False,
) -> None:
    now = timezone.now()
    fields: dict[str, object] = {"sync_started_at": None, "last_sync_error": error[:1000]}
    if status == SyncStatus.SUCCEEDED:
        fields.update(last_synced_at=now, needs_reconnect=False)
    if cursor is not None:
        fields["sync_cursor"] = cursor
    if result is not None:
        fields["last_sync_counts"] = {
            "read": result.interactions_read,
            "inserted": result.interactions_inserted,
            "accounts": result.accounts_created,
        }
    if revoked:
        fields["needs_reconnect"] = True
    NetworkAccount.objects.filter(pk=account.pk).update(**fields)
    SyncRun.objects.filter(pk=run.pk).update(
        status=status, finished_at=now, progress=1.0, errors=[error] if error else []
    )


def syncable_accounts() -> list[int]:
    """Ids of claimed, visible accounts on networks with a live API and no pending reconnect."""
    return list(
        NetworkAccount.objects.visible()
        .filter(user__isnull=False, needs_reconnect=False, network__in=list(PROVIDERS))
        .values_list("pk", flat=True)
    )


def sync_details(account: NetworkAccount, latest: SyncRun | None) -> dict[str, object]:
    """What the linked-accounts page shows about one account's syncs."""
    return {
        "network_account_id": account.pk,
        "last_synced_at": account.last_synced_at,
        "counts": account.last_sync_counts or {},
        "error": account.last_sync_error,
        "syncing": account.sync_started_at is not None,
        "progress": round((latest.progress if latest else 0.0) * 100),
        "needs_reconnect": account.needs_reconnect,
    }


def linked_account_details(*, user_id: int) -> dict[tuple[str, str], dict[str, object]]:
    """Sync details for each (provider, uid) the person linked, keyed as accounts expects."""
    details: dict[tuple[str, str], dict[str, object]] = {}
    accounts = list(NetworkAccount.objects.claimed_by(user_id))
    latest: dict[int, SyncRun] = {}
    for run in SyncRun.objects.filter(account__in=accounts).order_by("account_id", "-started_at"):
        latest.setdefault(run.account_id or 0, run)
    for account in accounts:
        state = sync_details(account, latest.get(account.pk))
        for provider, network in PROVIDER_NETWORKS.items():
            if network == account.network:
                details[(provider, account.credential_uid)] = state
    return details
