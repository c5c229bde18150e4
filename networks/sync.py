"""Live syncs: fetch what happened to a linked account since its cursor, and the account's own
posts since their cursor, and ingest both in one batch through `ingest_batch` (its posts first,
so reactions in the same batch are linked to them)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from klout.queueing import queue_on_commit
from networks.models import NetworkAccount, SyncRun, SyncStatus
from networks.providers import (
    PROVIDERS,
    Credential,
    CredentialRevoked,
    ProviderError,
    provider_for,
)
from networks.providers.base import parse_resume, readable_cursor
from networks.records import (
    IngestResult,
)
from networks.store import PROVIDER_NETWORKS, ingest_batch

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


def queue_account_sync(*, account_id: int) -> SyncRun:
    """ "Sync now": take the lock, record the run and queue its task; if the broker is down the
    run fails with the reason, the lock is released and QueueUnavailable is raised."""
    from networks import tasks

    run = start_account_sync(account_id=account_id)
    account = NetworkAccount.objects.get(pk=account_id)

    def undo(reason: str) -> None:
        _end_sync(account, run, SyncStatus.FAILED, error=reason)

    queue_on_commit(tasks.sync_account, account_id, run.pk, undo=undo)
    return run


def give_up_sync(*, account_id: int, reason: str) -> None:
    """A sync whose task kept killing its worker: its running runs fail, the lock is released."""
    account = NetworkAccount.objects.filter(pk=account_id).first()
    if account is None:
        return
    for run in SyncRun.objects.filter(account_id=account_id, status=SyncStatus.RUNNING):
        _end_sync(account, run, SyncStatus.FAILED, error=reason)
    NetworkAccount.objects.filter(pk=account_id).update(sync_started_at=None)


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
        own = provider.fetch_posts_since(account, credential, readable_cursor(account.posts_cursor))
        SyncRun.objects.filter(pk=run.pk).update(progress=0.5)
        fetched = provider.fetch_since(account, credential, readable_cursor(account.sync_cursor))
        SyncRun.objects.filter(pk=run.pk).update(progress=0.7)
        result = ingest_batch(
            network=account.network,
            accounts=[*own.accounts, *fetched.accounts],
            posts=[*own.posts, *fetched.posts],
            interactions=[*own.interactions, *fetched.interactions],
            sync_run=run,
        )
        SyncRun.objects.filter(pk=run.pk).update(
            read_count=result.interactions_read,
            cursor=fetched.next_cursor,
            options={"posts_cursor": own.next_cursor},
        )
        _end_sync(
            account,
            run,
            SyncStatus.SUCCEEDED,
            cursor=fetched.next_cursor,
            posts_cursor=own.next_cursor,
            result=result,
        )
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
    """Whether a successful sync stopped at its page budget with older activity (or older posts)
    still to fetch."""
    if run.status != SyncStatus.SUCCEEDED:
        return False
    posts_cursor = str((run.options or {}).get("posts_cursor") or "")
    return parse_resume(run.cursor or "") is not None or parse_resume(posts_cursor) is not None


def _end_sync(
    account: NetworkAccount,
    run: SyncRun,
    status: str,
    *,
    error: str = "",
    cursor: str | None = None,
    posts_cursor: str | None = None,
    result: IngestResult | None = None,
    revoked: bool = False,
) -> None:
    now = timezone.now()
    fields: dict[str, object] = {"sync_started_at": None, "last_sync_error": error[:1000]}
    if status == SyncStatus.SUCCEEDED:
        fields.update(last_synced_at=now, needs_reconnect=False)
    if cursor is not None:
        fields["sync_cursor"] = cursor
    if posts_cursor is not None:
        fields["posts_cursor"] = posts_cursor
    if result is not None:
        fields["last_sync_counts"] = {
            "read": result.interactions_read,
            "inserted": result.interactions_inserted,
            "accounts": result.accounts_created,
            "posts": result.posts_inserted,
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
