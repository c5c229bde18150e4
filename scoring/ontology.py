"""Import the Klout topic ontology (`../shared/data/klout-topic-ontology/`) idempotently.

Three CSV files (topics, parent -> child edges, display names in en/fr/es/de) become `Topic`,
`TopicEdge` and `TopicAlias` rows. Ids stay text (the top categories' ids exceed int64). The root
(`0`, `_ROOT_`) is not a topic: its children are the categories (depth 1). `topicType` is derived
from the depth (`scoring.engine.topic_names.topic_type`). Edges naming a topic the file does not
have are skipped and counted. Running it again changes nothing; a changed file converges: rows
that are no longer in it go, new ones come, changed topics are updated.
"""

from __future__ import annotations

import csv
import dataclasses
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from django.conf import settings
from django.db import transaction

from scoring.engine import topic_names
from scoring.topics import Topic, TopicAlias, TopicEdge

ROOT = "0"
TOPICS_FILE = "klout_topic_ontology_20180601.csv"
EDGES_FILE = "klout_topic_edge_20180601.csv"
NAMES_FILE = "klout_topic_display_20180601_en_fr_es_de.csv"
LANGUAGES = ("en", "fr", "es", "de")

Progress = Callable[[str, int], None]
_generation = 0


def generation() -> int:
    """How many imports this process ran (cached automatons built before one are stale)."""
    return _generation


class OntologyError(ValueError):
    """The ontology folder is missing a file or a file is not what it should be."""


@dataclasses.dataclass(frozen=True)
class ImportCounts:
    topics: int
    edges: int
    aliases: int
    skipped_edges: int
    created: int
    updated: int
    removed: int
    sub: int
    entity: int


def default_path() -> Path:
    """Where the shipped ontology lives (KLOUT_SHARED_DATA overrides ../shared/data)."""
    return Path(settings.SHARED_DATA_DIR) / "klout-topic-ontology"


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[dict[str, str]]:
    if not path.is_file():
        raise OntologyError(f"{path} is missing")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise OntologyError(f"{path.name} has no column {', '.join(missing)}")
        for line, row in enumerate(reader, start=2):
            if any(not (row.get(c) or "").strip() for c in columns[:2]):
                raise OntologyError(f"{path.name} line {line}: empty {columns[0]}/{columns[1]}")
            yield row


def import_ontology(*, path: Path | None = None, progress: Progress | None = None) -> ImportCounts:
    """Load the ontology folder into Topic, TopicEdge and TopicAlias; return what it did."""
    folder = path or default_path()
    if not folder.is_dir():
        raise OntologyError(f"{folder} is not a folder with the Klout topic ontology")

    def step(stage: str, n: int) -> None:
        if progress is not None:
            progress(stage, n)

    topics: dict[str, dict[str, str]] = {}
    for row in _rows(folder / TOPICS_FILE, ("topicId", "topicSlug", "topicDisplayName")):
        topics[row["topicId"].strip()] = row
    step("topics read", len(topics))
    names: dict[str, dict[str, str]] = {t: {} for t in topics}
    for row in _rows(folder / NAMES_FILE, ("topicId", "language", "topicDisplayName")):
        if row["topicId"] in names and row["language"] in LANGUAGES:
            names[row["topicId"]][row["language"]] = row["topicDisplayName"].strip()
    raw_edges = [
        (row["parentTopicId"].strip(), row["childTopicId"].strip())
        for row in _rows(folder / EDGES_FILE, ("parentTopicId", "childTopicId"))
    ]
    step("edges read", len(raw_edges))
    depth = topic_names.depths(raw_edges, ROOT)
    edges = {
        (p, c) for p, c in raw_edges if p != c and p in topics and c in topics
    }  # the root's links are depth 1, not edges
    skipped = sum(1 for p, c in raw_edges if p != c and p != ROOT and (p, c) not in edges)

    wanted = [
        Topic(
            id=topic_id,
            slug=row["topicSlug"].strip(),
            display_name=row["topicDisplayName"].strip(),
            names={"en": row["topicDisplayName"].strip(), **names[topic_id]},
            wikidata_id=(row.get("wikiItemId") or "").strip(),
            freebase_id=(row.get("freebaseMachineId") or "").strip(),
            depth=depth.get(topic_id, 0),
            topic_type=topic_names.topic_type(depth.get(topic_id, 0)),
        )
        for topic_id, row in topics.items()
    ]
    alias_rows = {
        (topic.id, alias): source
        for topic in wanted
        for alias, source in topic_names.aliases(topic.slug, topic.names.values()).items()
        if len(alias) <= 191
    }

    fields = ("slug", "display_name", "names", "wikidata_id", "freebase_id", "depth", "topic_type")
    with transaction.atomic():
        existing = {t.id: t for t in Topic.objects.all()}
        changed = [
            t
            for t in wanted
            if t.id in existing and any(getattr(t, f) != getattr(existing[t.id], f) for f in fields)
        ]
        new = [t for t in wanted if t.id not in existing]
        gone = set(existing) - set(topics)
        removed = len(gone)
        if gone:
            Topic.objects.filter(pk__in=gone).delete()
        if changed:
            # A slug may move between topics: free the old slugs first.
            Topic.objects.filter(pk__in=[t.id for t in changed]).update(slug=models_null_slug())
            Topic.objects.bulk_update(changed, list(fields), batch_size=1_000)
        Topic.objects.bulk_create(new, batch_size=2_000)
        step("topics written", len(wanted))

        have_edges = set(TopicEdge.objects.values_list("parent_id", "child_id"))
        stale = have_edges - edges
        if stale:
            for parent, child in stale:
                TopicEdge.objects.filter(parent_id=parent, child_id=child).delete()
        TopicEdge.objects.bulk_create(
            [TopicEdge(parent_id=p, child_id=c) for p, c in sorted(edges - have_edges)],
            batch_size=5_000,
        )
        step("edges written", len(edges))

        have_aliases = {
            (t, a): s for t, a, s in TopicAlias.objects.values_list("topic_id", "alias", "source")
        }
        drop = [k for k, s in have_aliases.items() if alias_rows.get(k) != s]
        for topic_id, alias in drop:
            TopicAlias.objects.filter(topic_id=topic_id, alias=alias).delete()
        keep = {k for k in have_aliases if k not in set(drop)}
        TopicAlias.objects.bulk_create(
            [
                TopicAlias(topic_id=t, alias=a, source=s)
                for (t, a), s in sorted(alias_rows.items())
                if (t, a) not in keep
            ],
            batch_size=5_000,
        )
        step("aliases written", len(alias_rows))
    global _generation
    _generation += 1
    counts = Counter(t.topic_type for t in wanted)
    return ImportCounts(
        topics=len(wanted),
        edges=len(edges),
        aliases=len(alias_rows),
        skipped_edges=skipped,
        created=len(new),
        updated=len(changed),
        removed=removed,
        sub=counts[topic_names.SUB],
        entity=counts[topic_names.ENTITY],
    )


def models_null_slug() -> object:
    """A temporary unique slug per row while slugs are reassigned (its own id, prefixed)."""
    from django.db.models import Value
    from django.db.models.functions import Concat

    return Concat(Value("~"), "id")
