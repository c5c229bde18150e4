"""The demo's real data slice: quick, idempotent, keyed exactly like a full import."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from networks.importers import ImportFormatError
from networks.services import run_import, start_import


@dataclass(frozen=True)
class DemoSource:
    format: str
    path: str
    sample: int | None = None


def demo_sources() -> list[DemoSource]:
    """What the demo imports: a week of Higgs (every 25th event), CollegeMsg, Klout's sample."""
    data = settings.SHARED_DATA_DIR
    return [
        DemoSource("higgs", str(data / "higgs-twitter" / "higgs-activity_time.txt.gz"), 25),
        DemoSource("snap", str(data / "collegemsg" / "CollegeMsg.txt.gz")),
        DemoSource("kloutsample", str(data / "klout-when-to-post-sample")),
        DemoSource("stackexchange", str(data / "stackexchange-quantumcomputing")),
    ]


def import_demo_slice(*, stdout: Any) -> int:
    """Import the demo slice (a second run inserts nothing); return interactions inserted."""
    inserted = 0
    for source in demo_sources():
        try:
            run = start_import(format=source.format, path=source.path, sample=source.sample)
            run = run_import(sync_run_id=run.pk)
        except ImportFormatError as exc:
            stdout.write(f"demo: skipped {source.format}: {exc}\n")
            continue
        inserted += run.inserted_count
        stdout.write(
            f"demo: {source.format}: read {run.read_count:,}, inserted {run.inserted_count:,}\n"
        )
    return inserted
