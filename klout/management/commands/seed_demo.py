"""Seed the demo: people to log in as, a real slice of a dataset, and scored days. Idempotent."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand

from accounts.models import User

DEMO_PASSWORD = "klout-demo-2026"
DEMO_PEOPLE = [
    ("alice@demo.klout.local", "Alice Demo", False),
    ("bob@demo.klout.local", "Bob Demo", False),
    ("staff@demo.klout.local", "Staff Demo", True),
]


class Command(BaseCommand):
    help = "Create demo log-ins, import a real dataset slice and score it (safe to run twice)."

    def handle(self, *args: Any, **options: Any) -> None:
        for email, name, staff in DEMO_PEOPLE:
            user, created = User.objects.get_or_create(
                email=email, defaults={"display_name": name, "is_staff": staff}
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            EmailAddress.objects.get_or_create(
                user=user, email=email, defaults={"verified": True, "primary": True}
            )
        # Later stages plug in here when their commands exist.
        commands = get_commands()
        if "seed_demo_data" in commands:
            call_command("seed_demo_data", stdout=self.stdout)
        banner = f"Demo log-ins (password for all: {DEMO_PASSWORD}):"
        self.stdout.write(self.style.SUCCESS(banner))
        for email, _name, staff in DEMO_PEOPLE:
            self.stdout.write(f"  {email}{'  (staff)' if staff else ''}")
        self.stdout.write("Open http://127.0.0.1:8000/")
