"""The Celery application. Tasks are thin: ids in, one service call (see STYLE.md rule 6)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "klout.settings")

app = Celery("klout")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
