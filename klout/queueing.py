"""Queueing work for Celery when the broker may be away: a clear message and nothing left stuck.

Callers record what they start (an export job, a sync run holding the account's lock), then
`queue_on_commit` sends the task once that is committed. If the broker cannot take it, `undo`
puts the record in a final state (failed, lock released) and `QueueUnavailable` tells the caller,
whose page says so in plain words.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

QUEUE_DOWN_MESSAGE = (
    "Our background workers cannot be reached right now, so nothing was started. "
    "Please try again in a few minutes."
)
BROKER_ERRORS = (OperationalError, ConnectionError, OSError)


class QueueUnavailable(Exception):
    """The broker refused the task; the message is fit to show to the person."""


def queue_on_commit(task: Any, *args: Any, undo: Callable[[str], None]) -> None:
    """Send `task(*args)` once the transaction commits; on a broker outage call `undo(reason)`
    and raise QueueUnavailable (at once when no transaction is open, as in a view)."""

    def send() -> None:
        try:
            task.apply_async(args)
        except BROKER_ERRORS as exc:
            logger.warning("broker unreachable, %s%r not queued: %s", task.name, args, exc)
            undo(QUEUE_DOWN_MESSAGE)
            raise QueueUnavailable(QUEUE_DOWN_MESSAGE) from exc

    transaction.on_commit(send)
