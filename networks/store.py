"""Writes into the network store: interactions, posts and accounts.

`ingest_batch` is the one write path for providers and small batches (a file import stores its
batches through its `networks.session.ImportSession`, with the same merge, `store_prepared`).
Accounts are also created by claiming a linked login and by opting an account out, and hidden
(purged, scores removed through `accounts_hidden`) through `hide_accounts`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import connection, transaction
from django.db.models import F, Q

from networks.models import (
    Interaction,
    Network,
    NetworkAccount,
    Post,
    SuppressedAccount,
    SyncRun,
    clean_handle,
    suppression_key,
)
from networks.partitions import BulkLoad
from networks.records import (
    AccountRecord,
    IngestResult,
    InteractionRecord,
    PostRecord,
)
from networks.signals import accounts_hidden
from networks.staging import (
    Merge,
    PreparedBatch,
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
) -> IngestResult:
    """Store one batch idempotently by source key; hidden accounts' interactions are dropped.

    The write path of providers and small batches; a file import stores its batches through its
    `networks.session.ImportSession`, which merges them the same way.
    """
    accounts, posts, interactions = _without_suppressed(network, accounts, posts, interactions)
    prepared = prepare_batch(
        network, accounts, posts, interactions, postgres=connection.vendor == "postgresql"
    )
    return store_prepared(Merge(network), prepared, sync_run=sync_run)


def store_prepared(
    merge: Merge, prepared: PreparedBatch, *, sync_run: SyncRun | None, load: BulkLoad | None = None
) -> IngestResult:
    """One batch through the merge in one transaction: accounts the batch reports protected are
    hidden, and the run counts what was inserted and skipped."""
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
    # Someone proved control of the account again: later imports and syncs may store it.
    SuppressedAccount.objects.filter(
        key__in=[suppression_key(network, external_id), suppression_key(network, str(uid))]
    ).delete()
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


# --- deletion: suppression markers -------------------------------------------------------------


def suppress_accounts_of_user(*, user_id: int, linked: Sequence[tuple[str, str]] = ()) -> int:
    """A person is being deleted: hide their accounts now (scores, read models, interactions)
    and keep a marker naming nobody for each, so no later import or sync stores them again."""
    rows = list(
        NetworkAccount.objects.filter(user_id=user_id).values_list("pk", "network", "external_id")
    )
    keyed = {(network, external_id) for _pk, network, external_id in rows}
    for provider, uid in linked:
        network = PROVIDER_NETWORKS.get(provider, provider if provider in Network.values else None)
        if network is not None:
            keyed.add((network, str(uid)))
    ids = [pk for pk, _network, _external_id in rows]
    with transaction.atomic():
        SuppressedAccount.objects.bulk_create(
            [SuppressedAccount(network=n, key=suppression_key(n, e)) for n, e in sorted(keyed)],
            ignore_conflicts=True,
        )
        NetworkAccount.objects.filter(pk__in=ids).update(opted_out=True)
        hide_accounts(account_ids=ids)
    return len(keyed)


def suppressed_external_ids(network: str, external_ids: set[str]) -> set[str]:
    """Which of these external ids belong to deleted people (one query; none when no markers)."""
    markers = set(SuppressedAccount.objects.filter(network=network).values_list("key", flat=True))
    if not markers or not external_ids:
        return set()
    return {e for e in external_ids if suppression_key(network, e) in markers}


def _without_suppressed(
    network: str,
    accounts: Sequence[AccountRecord],
    posts: Sequence[PostRecord],
    interactions: Sequence[InteractionRecord],
) -> tuple[Sequence[AccountRecord], Sequence[PostRecord], Sequence[InteractionRecord]]:
    named = {a.external_id for a in accounts} | {p.account for p in posts}
    named.update(i.actor for i in interactions)
    named.update(i.receiver for i in interactions)
    gone = suppressed_external_ids(network, named)
    if not gone:
        return accounts, posts, interactions
    return (
        [a for a in accounts if a.external_id not in gone],
        [p for p in posts if p.account not in gone],
        [i for i in interactions if i.actor not in gone and i.receiver not in gone],
    )


def forget_suppressed_accounts(*, network: str, since: dt.datetime) -> int:
    """Delete accounts of deleted people that a bulk import stored again (with what names them)."""
    if not SuppressedAccount.objects.filter(network=network).exists():
        return 0
    fresh = dict(
        NetworkAccount.objects.filter(network=network, created_at__gte=since).values_list(
            "external_id", "pk"
        )
    )
    gone = suppressed_external_ids(network, set(fresh))
    ids = [fresh[e] for e in gone]
    if ids:
        with transaction.atomic():
            hide_accounts(account_ids=ids)
            NetworkAccount.objects.filter(pk__in=ids).delete()
    return len(ids)
