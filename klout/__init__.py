"""Klout, rebuilt: project package (settings, URLs, Celery app, shared HTTP types)."""

from klout.celery import app as celery_app

__all__ = ["celery_app"]
