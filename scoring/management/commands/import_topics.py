"""Load the Klout topic ontology: `manage.py import_topics [PATH]` (idempotent)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from scoring.ontology import OntologyError, default_path, import_ontology

STAGES = ("topics read", "edges read", "topics written", "edges written", "aliases written")


class Command(BaseCommand):
    help = "Import the Klout topic ontology (topics, parent/child edges, names in en/fr/es/de)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path", nargs="?", default=None, help=f"ontology folder (default {default_path()})"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"]) if options["path"] else None
        with tqdm(total=len(STAGES), desc="topics", unit="step", leave=False) as bar:

            def advance(stage: str, n: int) -> None:
                bar.set_postfix_str(f"{stage}: {n:,}")
                bar.update(1)

            try:
                counts = import_ontology(path=path, progress=advance)
            except OntologyError as exc:
                raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Topics: {counts.topics:,} ({counts.sub:,} sub, {counts.entity:,} entity), "
                f"{counts.edges:,} edges, {counts.aliases:,} aliases; "
                f"{counts.created:,} new, {counts.updated:,} changed, {counts.removed:,} removed; "
                f"{counts.skipped_edges:,} edges to unknown topics skipped"
            )
        )
