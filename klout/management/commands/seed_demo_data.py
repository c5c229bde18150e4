"""Demo data: import a slice of a real dataset, then score its last days. Safe to run twice.

Two parts kept apart on purpose: the import (owned by networks; uses its importer command when
there is one, else a small slice through `networks.services.ingest_batch`) and the scoring.
Days are dates in the data's own time: the Higgs sample runs 2012-07-01..07, so the demo's
"today" is 2012-07-08 and the last scored day 2012-07-07.
"""

from __future__ import annotations

import datetime as dt
import gzip
from typing import Any

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand
from tqdm import tqdm

from networks.models import Interaction, Network
from networks.records import AccountRecord, InteractionRecord
from networks.services import ingest_batch

HIGGS_EVERY = 100  # every 100th event of the week: ~5.6k events, seeds in seconds
HIGGS_KINDS = {"RT": "share", "MT": "mention", "RE": "reply"}
SCORE_DAYS = 7


class Command(BaseCommand):
    help = "Import a Higgs slice (if not there yet) and score its last days."

    def handle(self, *args: Any, **options: Any) -> None:
        self.import_data()
        self.score_days()

    # --- import (networks) --------------------------------------------------------------------

    def import_data(self) -> None:
        """Bring a real dataset slice into the store (idempotent by source key)."""
        if "import_demo" in get_commands():
            call_command("import_demo", stdout=self.stdout)
            return
        if Interaction.objects.filter(network=Network.HIGGS).exists():
            return
        path = settings.SHARED_DATA_DIR / "higgs-twitter" / "higgs-activity_time.txt.gz"
        batch: list[InteractionRecord] = []
        users: set[str] = set()
        with gzip.open(path, "rt") as handle:
            for number, line in enumerate(tqdm(handle, desc="import higgs", unit=" lines")):
                if number % HIGGS_EVERY:
                    continue
                actor, receiver, ts, kind = line.split()
                users.update((actor, receiver))
                batch.append(
                    InteractionRecord(
                        actor=actor,
                        receiver=receiver,
                        kind=HIGGS_KINDS.get(kind, "mention"),
                        occurred_at=dt.datetime.fromtimestamp(int(ts), tz=dt.UTC),
                        source_key=f"activity:{number}",
                    )
                )
                if len(batch) >= 1_000:
                    self._ingest(batch, users)
                    batch, users = [], set()
        if batch:
            self._ingest(batch, users)

    def _ingest(self, batch: list[InteractionRecord], users: set[str]) -> None:
        accounts = [AccountRecord(external_id=u, handle=f"higgs{u}") for u in sorted(users)]
        ingest_batch(network=Network.HIGGS, accounts=accounts, interactions=batch)

    # --- scoring ------------------------------------------------------------------------------

    def score_days(self) -> None:
        """Score the last days of the data; the demo decides held days as staff would."""
        from scoring.models import RunStatus
        from scoring.services import publish_run

        last = Interaction.objects.order_by("-occurred_at").values_list("occurred_at", flat=True)
        newest = last.first()
        if newest is None:
            self.stdout.write("No interactions to score.")
            return
        last_day = newest.astimezone(dt.UTC).date()
        call_command("score", date=last_day.isoformat(), days=SCORE_DAYS, stdout=self.stdout)
        from scoring.models import ScoringRun

        for run in ScoringRun.objects.filter(status=RunStatus.HELD).order_by("day"):
            # A real deploy waits for staff; the demo publishes so every day has a score.
            publish_run(run_id=run.pk)
            self.stdout.write(f"Demo: published held day {run.day} ({run.held_reason})")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo scores up to {last_day}; demo today is {last_day + dt.timedelta(days=1)}"
            )
        )
