"""Seed the demo: people to log in as, a real dataset slice, and a scored month. Idempotent.

Days are dates in the data's own time: the newest data (the Stack Exchange dump) ends on
2018-09-01, so the demo's "today" is 2018-09-02. The Higgs week and CollegeMsg are imported too
(their public profiles and search work), but fall outside the scored 90-day window.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db.models import Count, Max

from accounts.models import User
from networks.models import Interaction, NetworkAccount
from networks.services import claim_account

SCORE_DAYS = 30
OTHER_DATASET_DAYS = 3
DEMO_PASSWORD = "klout-demo-2026"
# (e-mail, name, staff, owns an account): owners claim the busiest accounts of the newest data.
DEMO_PEOPLE = [
    ("alice@demo.klout.local", "Alice Demo", False, True),
    ("bob@demo.klout.local", "Bob Demo", False, True),
    ("staff@demo.klout.local", "Staff Demo", True, False),
    ("brand@demo.klout.local", "Brand Demo", False, False),  # perks: owner of the demo brand
]


class Command(BaseCommand):
    help = "Create demo log-ins, import a real dataset slice and score its last month."

    def handle(self, *args: Any, **options: Any) -> None:
        self.create_people()
        # Topics (issue 14): the ontology before any scoring, so demo days have topic scores.
        call_command("import_topics", stdout=self.stdout)
        call_command("import_demo", stdout=self.stdout)
        ends = sorted(
            Interaction.objects.values_list("network")
            .annotate(last=Max("occurred_at"))
            .values_list("last", flat=True)
        )
        if not ends:
            self.stdout.write("No interactions to score.")
            return
        last = ends[-1]
        last_day = last.astimezone(dt.UTC).date()
        self.claim_accounts(since=last - dt.timedelta(days=SCORE_DAYS))
        # Each dataset is scored at its own end, oldest first, so every network has public
        # scores; the newest dataset (the demo people's) gets a month of history.
        for end in ends:
            day = end.astimezone(dt.UTC).date()
            days = SCORE_DAYS if end == last else OTHER_DATASET_DAYS
            call_command("score", date=day.isoformat(), days=days, stdout=self.stdout)
        self.publish_held_days()
        # achievements (issue 17): each published day already evaluated them through the
        # day_published receiver when tasks run eagerly; with a worker, this catches up. Idempotent.
        call_command("backfill_achievements", stdout=self.stdout)
        self.seed_perks()
        today = last_day + dt.timedelta(days=1)
        self.stdout.write(self.style.SUCCESS(f"Demo scores up to {last_day} (demo today {today})"))
        self.stdout.write(self.style.SUCCESS(f"Demo log-ins (password for all: {DEMO_PASSWORD}):"))
        for email, _name, staff, _owner in DEMO_PEOPLE:
            self.stdout.write(f"  {email}{'  (staff)' if staff else ''}")
        self.stdout.write("  (brand@demo.klout.local runs the demo brand: /brands/acme-outdoors/)")
        self.stdout.write("Open http://127.0.0.1:8000/")

    def create_people(self) -> None:
        """The demo log-ins, with verified e-mail addresses (once)."""
        for email, name, staff, _owner in DEMO_PEOPLE:
            user, created = User.objects.get_or_create(
                email=email, defaults={"display_name": name, "is_staff": staff}
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                # members for a few days already, so they may give +K (issue 14) at once
                user.date_joined = user.date_joined - dt.timedelta(days=3)
                user.save(update_fields=["password", "date_joined"])
            EmailAddress.objects.get_or_create(
                user=user, email=email, defaults={"verified": True, "primary": True}
            )

    def claim_accounts(self, *, since: dt.datetime) -> None:
        """Link each demo person to one busy, unclaimed real account (once)."""
        for email, _name, _staff, owner in DEMO_PEOPLE:
            user = User.objects.filter(email=email).first() if owner else None
            if user is None or NetworkAccount.objects.filter(user=user).exists():
                continue
            busiest = (
                NetworkAccount.objects.visible()
                .filter(user__isnull=True, interactions_received__occurred_at__gte=since)
                .annotate(received=Count("interactions_received"))
                .order_by("-received", "pk")
                .first()
            )
            if busiest is not None:
                claim_account(
                    user_id=user.pk,
                    provider=busiest.network,
                    uid=busiest.external_id,
                    handle=busiest.handle,
                )
                self.stdout.write(f"Demo: {email} owns {busiest.network}/{busiest.slug}")

    def seed_perks(self) -> None:
        """Perks: the demo brand with an active campaign (once)."""
        from perks.demo import seed_demo_brand

        brand = seed_demo_brand()
        self.stdout.write(f"Demo: brand {brand.name} at /brands/{brand.slug}/")

    def publish_held_days(self) -> None:
        """A real deploy waits for staff; the demo publishes held days so every day has a score."""
        from scoring.models import RunStatus, ScoringRun
        from scoring.services import publish_run

        for run in ScoringRun.objects.filter(status=RunStatus.HELD).order_by("day"):
            publish_run(run_id=run.pk)
            self.stdout.write(f"Demo: published held day {run.day} ({run.held_reason})")
