"""`manage.py import_dataset FORMAT PATH`: stream a dataset file into the network store."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from networks.importers import IMPORTERS, ImportFormatError
from networks.models import SyncRun
from networks.services import ImportAborted, run_import, start_import


class Command(BaseCommand):
    help = "Import a dataset file idempotently (re-running inserts nothing new)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("format", choices=sorted(IMPORTERS))
        parser.add_argument("path")
        parser.add_argument("--network", help="store under this network (default: the format's)")
        parser.add_argument("--kind", help="interaction kind for snap edge lists (default message)")
        parser.add_argument("--account", help="archive owner's external id (x_archive)")
        parser.add_argument(
            "--strict", action="store_true", help="abort on the first malformed line, keep nothing"
        )
        parser.add_argument("--limit", type=int, help="stop after this many interactions")
        parser.add_argument("--batch-size", type=int, default=100_000)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        try:
            run = start_import(
                format=options["format"],
                path=options["path"],
                network=options["network"],
                kind=options["kind"],
                account=options["account"],
                strict=options["strict"],
                limit=options["limit"],
            )
        except ImportFormatError as exc:
            raise CommandError(str(exc)) from None
        bar = tqdm(
            total=100,
            unit="%",
            file=sys.stderr,
            disable=options["no_progress"],
            desc=f"import {options['format']}",
            bar_format="{l_bar}{bar}| {n:.0f}% [{elapsed}<{remaining}] {postfix}",
        )

        def progress(fraction: float, current: SyncRun) -> None:
            bar.n = round(fraction * 100, 1)
            bar.set_postfix(read=current.read_count, inserted=current.inserted_count)

        try:
            run = run_import(
                sync_run_id=run.pk, batch_size=options["batch_size"], on_progress=progress
            )
        except (ImportFormatError, ImportAborted) as exc:
            raise CommandError(str(exc)) from None
        finally:
            bar.close()
        elapsed = time.perf_counter() - started
        rate = run.read_count / elapsed if elapsed else 0.0
        self.stdout.write(
            f"{options['format']}: read {run.read_count:,} interactions, inserted "
            f"{run.inserted_count:,}, skipped {run.skipped_count:,} (duplicates or hidden "
            f"accounts), rejected {run.rejected_count:,} malformed lines in {elapsed:.1f}s "
            f"({rate:,.0f}/s); sync run #{run.pk}"
        )
        for error in run.errors[:5]:
            self.stdout.write(f"  {error}")
