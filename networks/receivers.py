"""What networks does when accounts tells it something (connected in NetworksConfig.ready)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.dispatch import Signal

from klout.delivery import task_given_up
from networks import services
from networks.models import Interaction, NetworkAccount


def on_person_opted_out(sender: object, *, user_id: int, **kwargs: Any) -> None:
    """Opt-out removes the person everywhere: flag and purge every account they claimed."""
    services.opt_out_accounts_of_user(user_id=user_id)


def on_network_account_opted_out(sender: object, *, provider: str, uid: str, **kwargs: Any) -> None:
    """Someone proved control of an account and opted it out, with or without a login here."""
    services.opt_out_network_account(
        provider=provider, uid=str(uid), external_id=str(kwargs.get("external_id") or "")
    )


def on_user_deleting(
    sender: object,
    *,
    user_id: int,
    linked: Sequence[tuple[str, str]] = (),
    **kwargs: Any,
) -> None:
    """A person is being deleted: their accounts are hidden and suppressed (markers name nobody),
    and their uploaded archives are removed from disk."""
    services.suppress_accounts_of_user(user_id=user_id, linked=list(linked))
    services.remove_uploads_of_user(user_id=user_id)


def on_task_given_up(
    sender: object, *, task_name: str, args: tuple[Any, ...], reason: str, **kwargs: Any
) -> None:
    """An import or sync whose task kept killing its worker fails with the reason; its lock and
    upload are released."""
    if task_name == "networks.import_dataset" and args:
        services.give_up_run(sync_run_id=int(args[0]), reason=reason)
    elif task_name == "networks.sync_account" and args:
        services.give_up_sync(account_id=int(args[0]), reason=reason)


def on_social_account_linked(
    sender: object, *, user_id: int, provider: str, uid: str, handle: str = "", **kwargs: Any
) -> None:
    """A linked login claims (or creates) its network account for the person."""
    services.claim_account(
        user_id=user_id,
        provider=provider,
        uid=str(uid),
        handle=handle or "",
        external_id=str(kwargs.get("external_id") or ""),
    )


def on_social_account_unlinked(
    sender: object, *, user_id: int, provider: str, uid: str, **kwargs: Any
) -> None:
    """Unlinking leaves the public account in place, unclaimed."""
    services.unclaim_account(
        user_id=user_id,
        provider=provider,
        uid=str(uid),
        external_id=str(kwargs.get("external_id") or ""),
    )


def on_credential_needs_reconnect(
    sender: object, *, user_id: int, provider: str, **kwargs: Any
) -> None:
    """A refused credential stops syncs until the person reconnects."""
    services.mark_needs_reconnect(user_id=user_id, provider=provider)


def on_credential_reconnected(
    sender: object, *, user_id: int, provider: str, **kwargs: Any
) -> None:
    """A working credential again: syncs resume."""
    services.mark_needs_reconnect(user_id=user_id, provider=provider, needs=False)


def on_collect_user_data(
    sender: object, *, user_id: int, **kwargs: Any
) -> dict[str, list[dict[str, Any]]]:
    """The person's linked network accounts and what we stored about them, for their export."""
    accounts = []
    for account in NetworkAccount.objects.claimed_by(user_id):
        accounts.append(
            {
                "network": account.network,
                "external_id": account.external_id,
                "handle": account.handle,
                "last_synced_at": account.last_synced_at.isoformat()
                if account.last_synced_at
                else None,
                "interactions_made": Interaction.objects.filter(actor=account).count(),
                "interactions_received": Interaction.objects.filter(receiver=account).count(),
            }
        )
    return {"network_accounts": accounts}


def on_linked_account_details(
    sender: object, *, user_id: int, **kwargs: Any
) -> dict[tuple[str, str], dict[str, object]]:
    """Sync state for the linked-accounts page."""
    return services.linked_account_details(user_id=user_id)


def on_claimed_accounts(sender: object, *, user_id: int, **kwargs: Any) -> list[dict[str, str]]:
    """The person's accounts that no login link stands behind, for the linked-accounts page."""
    return services.claimed_without_login(user_id=user_id)


def connect() -> None:
    """Connect the receivers to accounts' signals (idempotent by dispatch_uid)."""
    from accounts import signals
    from accounts.linked import claimed_accounts, linked_account_details

    pairs: list[tuple[Signal, Callable[..., Any]]] = [
        (signals.person_opted_out, on_person_opted_out),
        (signals.network_account_opted_out, on_network_account_opted_out),
        (signals.user_deleting, on_user_deleting),
        (task_given_up, on_task_given_up),
        (signals.social_account_linked, on_social_account_linked),
        (signals.social_account_unlinked, on_social_account_unlinked),
        (signals.credential_needs_reconnect, on_credential_needs_reconnect),
        (signals.credential_reconnected, on_credential_reconnected),
        (signals.collect_user_data, on_collect_user_data),
        (linked_account_details, on_linked_account_details),
        (claimed_accounts, on_claimed_accounts),
    ]
    for signal, receiver in pairs:
        signal.connect(receiver, dispatch_uid=f"networks.{receiver.__name__}")
