"""`manage.py evaluate`: the spec's forecast evaluation of the score against baselines."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from scoring.engine import evaluation
from scoring.engine.edgelist import read_edgelist

REPO = Path(__file__).resolve().parents[3]


def shared_data() -> Path:
    """The shared data directory (env KLOUT_SHARED_DATA overrides ../shared/data)."""
    env = os.environ.get("KLOUT_SHARED_DATA")
    return Path(env) if env else (REPO / ".." / "shared" / "data").resolve()


class Command(BaseCommand):
    help = "Evaluate the score as a forecast of received actions (dev sets, or --edges PATH)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--edges", help="SNAP temporal edge list (src dst [weight] unixtime)")
        parser.add_argument("--cut", default="median", help="median or an ISO time (UTC)")
        parser.add_argument("--json", default=str(REPO / "var" / "evaluation.json"))
        parser.add_argument("--bootstrap", type=int, default=100, help="bootstrap resamples")

    def _topics(self, n_boot: int) -> list[dict[str, object]]:
        """The spec's topic tables (item 6) on the Stack Exchange dump, and tag coverage."""
        from scoring.engine import topic_evaluation
        from scoring.ontology import matcher_from_files

        folder = shared_data() / "stackexchange-quantumcomputing"
        if not folder.is_dir():
            self.stderr.write(f"no {folder}: topic tables skipped")
            return []
        say = self.stdout.write
        say(f"topics: reading {folder}")
        rows = topic_evaluation.evaluate_topics(folder, n_boot=max(n_boot, 1000))
        say(topic_evaluation.format_topic_tables(rows))
        ontology = shared_data() / "klout-topic-ontology"
        if ontology.is_dir():
            matcher, slugs = matcher_from_files(ontology)
            dump = topic_evaluation.read_dump(folder)

            def map_tag(tag: str) -> list[str]:
                return sorted({slugs[c.topic] for c in matcher.candidates(tag) if not c.weak})

            share, examples = topic_evaluation.tag_mass(dump, map_tag)
            say(f"question tag mass mapped onto ontology topics: {share:.1%}; examples:")
            for tag, topics in examples:
                say(f"  {tag} -> {topics}")
        return [r.as_json() for r in rows]

    def handle(self, *args: Any, **options: Any) -> None:
        say = self.stdout.write
        if options["edges"]:
            path = Path(options["edges"])
            if not path.exists():
                raise CommandError(f"no such file: {path}")
            sets = [(path.name, path, options["cut"])]
        else:
            sets = evaluation.development_sets(shared_data())
        rows: list[evaluation.Row] = []
        cache: dict[Path, evaluation.EdgeList] = {}
        for name, path, cut in sets:
            if path not in cache:
                say(f"reading {path}")
                cache[path] = read_edgelist(path)
                for bad in cache[path].bad_lines[:10]:
                    self.stderr.write(f"{path}:{bad.line_number}: {bad.reason}: {bad.text}")
                if cache[path].bad_lines:
                    self.stderr.write(f"{len(cache[path].bad_lines)} bad lines skipped")
            edges = cache[path]
            split = evaluation.make_split(edges, evaluation.parse_cut(edges, cut), name)
            rows += evaluation.evaluate_split(split, n_boot=options["bootstrap"], progress=say)
        say(evaluation.format_table(rows))
        report = evaluation.rows_to_json(rows)
        if not options["edges"]:
            report["sets"] += self._topics(options["bootstrap"])
        out = Path(options["json"])
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
        say(f"wrote {out}")
