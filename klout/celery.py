"""The Celery application. Tasks are thin: ids in, one service call (see STYLE.md rule 6)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klout.settings")

# Every task gives up after KLOUT_TASK_MAX_DELIVERIES deliveries that killed their worker.
app = Celery("klout", task_cls="klout.delivery:BoundedDeliveryTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
