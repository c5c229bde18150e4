"""Evaluate achievements over published history: `manage.py backfill_achievements [--since DAY]`.

Walks the current version's published days oldest first, unlocking what each day's figures reach
(a re-run unlocks nothing twice). It sends no notifications: history is not news.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from achievements.services import evaluate_achievements, published_runs


class Command(BaseCommand):
    help = "Unlock achievements for every published day (or those since --since), oldest first."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", default=None, help="first day to evaluate (YYYY-MM-DD)")

    def handle(self, *args: Any, **options: Any) -> None:
        since = None
        if options["since"]:
            try:
                since = dt.date.fromisoformat(options["since"])
            except ValueError:
                raise CommandError(f"--since {options['since']!r} is not a date") from None
        runs = published_runs(since=since)
        if not runs:
            evaluation = evaluate_achievements(run_id=None)
            self.stdout.write(
                f"No published days: {evaluation.unlocked} unlocks from linked networks and "
                f"member numbers for {evaluation.people} people."
            )
            return
        unlocked = 0
        # On the command's own stderr (the terminal, or what a caller passes), not Python's.
        with tqdm(total=len(runs), desc="achievements", unit="day", file=self.stderr) as bar:
            for run in runs:
                evaluation = evaluate_achievements(run_id=run.pk)
                unlocked += evaluation.unlocked
                bar.set_postfix_str(f"{run.day} +{evaluation.unlocked}")
                bar.update(1)
        self.stdout.write(
            self.style.SUCCESS(
                f"Evaluated {len(runs)} published day{'s' if len(runs) != 1 else ''}: "
                f"{unlocked} new unlocks."
            )
        )
