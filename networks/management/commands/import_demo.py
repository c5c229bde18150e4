"""`manage.py import_demo`: the demo's real data slice (safe to run twice)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from networks.demo import import_demo_slice


class Command(BaseCommand):
    help = "Import a real slice of the shared datasets for the demo (idempotent, seconds)."

    def handle(self, *args: Any, **options: Any) -> None:
        inserted = import_demo_slice(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"demo data: {inserted:,} new interactions"))
