"""What scoring tells higher apps (achievements, perks), and how it hears about opt-outs.

`day_published` is sent (on commit) after a run is published: kwargs run_id.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

day_published = Signal()


def on_person_opted_out(sender: Any, *, user_id: int, **kwargs: Any) -> None:
    """A person opted out: their published scores go."""
    from scoring.services import remove_scores_for_user

    remove_scores_for_user(user_id=user_id)


def on_network_account_opted_out(sender: Any, *, provider: str, uid: str, **kwargs: Any) -> None:
    """Someone proved control of an account and opted it out: its scores go."""
    from networks.models import NetworkAccount
    from networks.services import PROVIDER_NETWORKS
    from scoring.services import remove_scores_for_account

    network = PROVIDER_NETWORKS.get(provider, provider)
    external_id = str(kwargs.get("external_id") or uid)  # Mastodon: the actor URI
    ids = NetworkAccount.objects.filter(network=network, external_id=external_id).values_list(
        "pk", flat=True
    )
    for account_id in list(ids):
        remove_scores_for_account(account_id=account_id)


def connect() -> None:
    """Hook scoring's receivers to the lower apps' signals (called from AppConfig.ready)."""
    from accounts import signals as account_signals

    account_signals.person_opted_out.connect(on_person_opted_out, dispatch_uid="scoring-opt-out")
    account_signals.network_account_opted_out.connect(
        on_network_account_opted_out, dispatch_uid="scoring-account-opt-out"
    )
