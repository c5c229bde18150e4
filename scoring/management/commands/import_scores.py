"""Spark's scores for a day through the run -> guard -> publish path: `manage.py import_scores`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from scoring.models import RunStatus
from scoring.services import import_day
from scoring.spark.results import read_scores


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--day {text!r} is not a date like 2012-07-07") from None


class Command(BaseCommand):
    help = (
        "Import the scores the Spark job wrote for --day: written, guarded and published (or "
        "held) exactly like a local run; a day that already has a run is left as it is."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dir", help="the directory the Spark job wrote (scoring.spark.job)")
        parser.add_argument("--day", required=True, help="the day the scores are for (YYYY-MM-DD)")

    def handle(self, *args: Any, **options: Any) -> None:
        day = _iso_date(options["day"])
        directory = Path(options["dir"])
        try:
            scores = read_scores(directory)
        except (FileNotFoundError, ValueError, KeyError) as exc:
            raise CommandError(f"cannot read Spark's scores in {directory}: {exc}") from None
        with tqdm(total=100, desc=f"import {day}", unit="%", leave=False) as bar:

            def advance(fraction: float, stage: str) -> None:
                bar.set_postfix_str(stage)
                bar.update(max(0, round(fraction * 100) - bar.n))

            try:
                run = import_day(day=day, scores=scores, progress=advance)
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        stats = run.stats or {}
        line = (
            f"{day} {run.version.name}: {run.get_status_display().lower()}, "
            f"{stats.get('accounts', 0)} accounts, {stats.get('users', 0)} people"
        )
        if run.status == RunStatus.HELD:
            line += f" — held: {run.held_reason}"
        self.stdout.write(line)
