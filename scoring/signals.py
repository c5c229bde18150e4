"""What scoring tells higher apps (achievements, perks), and how it hears about opt-outs.

`day_published` is sent (on commit) after a run is published: kwargs run_id.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

from scoring.read_model import remove_scores_for_account, remove_scores_for_user

day_published = Signal()


def on_person_opted_out(sender: Any, *, user_id: int, **kwargs: Any) -> None:
    """A person opted out: their published scores go."""
    remove_scores_for_user(user_id=user_id)


def on_accounts_hidden(sender: Any, *, account_ids: list[int], **kwargs: Any) -> None:
    """Accounts became hidden by any path (opt-out, protection): their scores and read-model rows
    go and the privacy epoch moves, exactly as on opt-out."""
    for account_id in account_ids:
        remove_scores_for_account(account_id=account_id)


def on_user_deleting(sender: Any, *, user_id: int, **kwargs: Any) -> None:
    """A person is being deleted: their scores and read-model rows go and the privacy epoch moves
    (explanations of others name people only at render time, through the hidden rule)."""
    remove_scores_for_user(user_id=user_id)


def connect() -> None:
    """Hook scoring's receivers to the lower apps' signals (called from AppConfig.ready)."""
    from accounts import signals as account_signals
    from networks import signals as network_signals

    account_signals.person_opted_out.connect(on_person_opted_out, dispatch_uid="scoring-opt-out")
    account_signals.user_deleting.connect(on_user_deleting, dispatch_uid="scoring-user-deleting")
    network_signals.accounts_hidden.connect(on_accounts_hidden, dispatch_uid="scoring-hidden")
