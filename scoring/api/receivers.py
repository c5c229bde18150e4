"""The API's caches listen: opt-outs and protection invalidate cached answers; publishing primes
them. Connected from `ScoringConfig.ready`."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from scoring.queries import bump_privacy_epoch

logger = logging.getLogger(__name__)


def forget_cached_answers(sender: Any, **kwargs: Any) -> None:
    """Someone is hiding: no cached answer may outlive it.

    The privacy epoch is bumped now (inside the opt-out's transaction, so a lookup from here on
    misses the cache and reads the database) and again when the transaction commits (so answers
    refilled from the still-uncommitted database in between are never read either).
    """
    _bump()
    transaction.on_commit(_bump)


def _bump() -> None:
    try:
        bump_privacy_epoch()
    except Exception as exc:
        # Redis away: nothing is served from it meanwhile (the gate fails open), but answers
        # cached before could be served again when it returns, until they expire (48 h).
        logger.error("privacy epoch not bumped (%s): flush the API's cached answers", exc)


def prime_after_publish(sender: Any, *, run_id: int, **kwargs: Any) -> None:
    """A day was published: cache every visible subject's answers (a Celery task)."""
    from scoring.tasks import prime_api_documents

    prime_api_documents.delay(run_id)


def connect() -> None:
    from accounts import signals as account_signals
    from networks import signals as network_signals
    from scoring import signals as scoring_signals

    account_signals.person_opted_out.connect(forget_cached_answers, dispatch_uid="api-opt-out")
    account_signals.network_account_opted_out.connect(
        forget_cached_answers, dispatch_uid="api-account-opt-out"
    )
    account_signals.user_deleting.connect(forget_cached_answers, dispatch_uid="api-deleting")
    network_signals.accounts_hidden.connect(forget_cached_answers, dispatch_uid="api-hidden")
    scoring_signals.day_published.connect(prime_after_publish, dispatch_uid="api-prime")
