"""Bounded redelivery: a task that kills its worker is not run again forever.

Tasks acknowledge late and are rejected back to the queue when their worker dies (settings:
CELERY_TASK_ACKS_LATE, CELERY_TASK_REJECT_ON_WORKER_LOST), so a crash never loses work. A task
that itself kills the worker (out of memory, a segfault) would then be redelivered forever. Each
start of a (task id, retry) is counted in the cache; past KLOUT_TASK_MAX_DELIVERIES the message
is rejected without requeueing and `task_given_up` lets the owning app record the reason.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from celery.exceptions import Reject
from django.conf import settings
from django.core.cache import cache
from django.dispatch import Signal

logger = logging.getLogger(__name__)

# A task was given up after too many deliveries: kwargs task_name, args, kwargs, reason.
task_given_up = Signal()


def count_delivery(task_id: str, retries: int) -> int:
    """Record one more start of this task attempt; return how many starts it has had."""
    key = f"klout:deliveries:{task_id}:{retries}"
    ttl = int(settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]) * (
        settings.KLOUT_TASK_MAX_DELIVERIES + 1
    )
    cache.add(key, 0, ttl)
    try:
        return int(cache.incr(key))
    except ValueError:  # the cache is away: count this start as the first
        return 1


class BoundedDeliveryTask(Task):
    """The project's task class: gives up on a task whose deliveries keep killing workers."""

    def before_start(self, task_id: str, args: Any, kwargs: Any) -> None:
        request = self.request
        if request.is_eager or request.called_directly:
            return
        starts = count_delivery(task_id, int(request.retries or 0))
        if starts <= settings.KLOUT_TASK_MAX_DELIVERIES:
            return
        reason = (
            f"Stopped after {starts - 1} tries: the worker running it died each time "
            "(out of memory or killed). It will not be retried."
        )
        logger.error("giving up on %s[%s]: %s", self.name, task_id, reason)
        task_given_up.send(
            sender=type(self),
            task_name=self.name,
            args=tuple(args),
            kwargs=dict(kwargs),
            reason=reason,
        )
        raise Reject(reason, requeue=False)
