"""Write one day's scoring window as partitioned Parquet for Spark: `manage.py export_window`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from scoring.collect import NETWORK_CODES, collect_window
from scoring.engine.registry import get_version
from scoring.services import get_or_create_version
from scoring.spark.window_io import ROWS_PER_FILE, WindowArrays, write_window


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--day {text!r} is not a date like 2012-07-07") from None


class Command(BaseCommand):
    help = (
        "Export the scoring window ending with --day (interactions, accounts, posts, person links; "
        "hidden accounts already removed) as Parquet that Spark reads in parallel."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # `--version` names the algorithm version here, not Django's version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--day", required=True, help="the day to score (YYYY-MM-DD, UTC)")
        parser.add_argument("--out", required=True, help="an empty (or new) directory")
        parser.add_argument("--version", default=None, help="algorithm version (default: current)")
        parser.add_argument(
            "--rows-per-file", type=int, default=ROWS_PER_FILE, help="interactions per part file"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        day = _iso_date(options["day"])
        out = Path(options["out"])
        if out.exists() and any(out.iterdir()):
            raise CommandError(f"{out} is not empty; export into a new directory")
        if options["rows_per_file"] < 1:
            raise CommandError("--rows-per-file must be at least 1")
        try:
            version = get_or_create_version(name=options["version"])
        except KeyError as exc:
            raise CommandError(str(exc.args[0])) from None
        algo = get_version(version.name)
        self.stdout.write(f"Reading the window ending {day} ({version.name}) …")
        # one extra day, as a local run reads, so Spark can score the day before too
        window = collect_window(day=day, days=int(algo.window_days) + 1)
        user_ids = np.full(window.account_ids.shape[0], -1, dtype=np.int64)
        for user_id, members in window.groups.items():
            user_ids[members] = user_id
        arrays = WindowArrays(
            interactions=window.interactions,
            posts=window.posts,
            account_ids=window.account_ids,
            post_ids=window.post_ids,
            user_ids=user_ids,
            meta={
                "day": day.isoformat(),
                "as_of": window.as_of,
                "start": window.start.isoformat(),
                "end": window.end.isoformat(),
                "version": version.name,
                "calibration": version.calibration or None,
                "networks": list(NETWORK_CODES),
                "day_counts": window.day_counts,
                "yesterday_counts": window.yesterday_counts,
            },
        )
        with tqdm(
            total=len(window.interactions), desc="export_window", unit="row", unit_scale=True
        ) as bar:
            rows = write_window(
                out, window=arrays, rows_per_file=options["rows_per_file"], advance=bar.update
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Exported {rows['interactions']:,} interactions, {rows['accounts']:,} accounts "
                f"and {rows['posts']:,} posts to {out}"
            )
        )
