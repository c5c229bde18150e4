"""Score one day or a range of days: `manage.py score --date 2012-07-07 --days 7`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from scoring.engine.registry import VERSIONS
from scoring.models import RunStatus
from scoring.services import compute_day


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--date {text!r} is not a date like 2012-07-07") from None


class Command(BaseCommand):
    help = "Compute (and publish, unless the anomaly guard holds it) the score of one or more days."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # `--version` names the algorithm version here, not Django's version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", required=True, help="last day to score (YYYY-MM-DD, UTC)")
        parser.add_argument("--days", type=int, default=1, help="how many days ending --date")
        parser.add_argument("--version", default=None, help="algorithm version (default: current)")

    def handle(self, *args: Any, **options: Any) -> None:
        last = _iso_date(options["date"])
        days = int(options["days"])
        if days < 1:
            raise CommandError("--days must be at least 1")
        version = options["version"]
        if version is not None and version not in VERSIONS:
            raise CommandError(f"unknown version {version!r}; known: {', '.join(sorted(VERSIONS))}")
        summary: dict[str, int] = {}
        for offset in range(days - 1, -1, -1):
            day = last - dt.timedelta(days=offset)
            with tqdm(total=100, desc=f"score {day}", unit="%", leave=False) as bar:

                def advance(fraction: float, stage: str, bar: tqdm[Any] = bar) -> None:
                    bar.set_postfix_str(stage)
                    bar.update(max(0, round(fraction * 100) - bar.n))

                run = compute_day(day=day, version_name=version, progress=advance)
            summary[run.status] = summary.get(run.status, 0) + 1
            stats = run.stats or {}
            line = (
                f"{day} {run.version.name}: {run.get_status_display().lower()}, "
                f"{stats.get('accounts', 0)} accounts, {stats.get('users', 0)} people, "
                f"{stats.get('interactions', 0)} interactions in the window"
            )
            if run.status == RunStatus.HELD:
                line += f" — held: {run.held_reason}"
            self.stdout.write(line)
        self.stdout.write(
            self.style.SUCCESS(
                "Scored " + ", ".join(f"{n} {status}" for status, n in sorted(summary.items()))
            )
        )
