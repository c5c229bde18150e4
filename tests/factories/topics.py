"""Factories for topics and topic scores (the read model pages, perks and the API use)."""

from __future__ import annotations

import csv
from pathlib import Path

import factory

from scoring.engine.topic_names import ENTITY
from scoring.ontology import EDGES_FILE, NAMES_FILE, TOPICS_FILE
from scoring.topics import Topic, TopicEdge, TopicScore


class TopicFactory(factory.django.DjangoModelFactory[Topic]):
    class Meta:
        model = Topic
        django_get_or_create = ("id",)

    id = factory.Sequence(lambda n: str(9_000_000_000 + n))
    slug = factory.Sequence(lambda n: f"topic-{n}")
    display_name = factory.Sequence(lambda n: f"Topic {n}")
    names = factory.LazyAttribute(lambda o: {"en": o.display_name})
    depth = 3
    topic_type = ENTITY


class TopicEdgeFactory(factory.django.DjangoModelFactory[TopicEdge]):
    class Meta:
        model = TopicEdge

    parent = factory.SubFactory(TopicFactory)
    child = factory.SubFactory(TopicFactory)


class TopicScoreFactory(factory.django.DjangoModelFactory[TopicScore]):
    """A topic score of a subject in a (published by default) run; pass user= or account=."""

    class Meta:
        model = TopicScore

    run = factory.SubFactory("tests.factories.scoring.ScoringRunFactory")
    day = factory.SelfAttribute("run.day")
    topic = factory.SubFactory(TopicFactory)
    score = 50.0
    raw = 1.0
    rank = 1
    posts = 3
    reactions = 10
    reactors = 7


# A small ontology: the root, two branches of two levels (ids are text, one beyond int64).
SMALL_TOPICS = [
    ("10000000000000000007", "technology-super", "Technology"),
    ("1", "software-development", "Software Development"),
    ("2", "python", "Python"),
    ("3", "physics", "Physics"),
    ("4", "quantum-computing", "Quantum Computing"),
]
SMALL_EDGES = [
    ("0", "10000000000000000007"),
    ("10000000000000000007", "1"),
    ("1", "2"),
    ("10000000000000000007", "3"),
    ("3", "4"),
]


def write_ontology(
    folder: Path, topics: list[tuple[str, str, str]], edges: list[tuple[str, str]]
) -> Path:
    """A small ontology in the shipped files' format (every field quoted, header first)."""
    folder.mkdir(exist_ok=True)
    with (folder / TOPICS_FILE).open("w", newline="") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL)
        w.writerow(["topicId", "topicSlug", "topicDisplayName", "wikiItemId", "freebaseMachineId"])
        w.writerows([(i, s, n, "", "") for i, s, n in topics])
    with (folder / EDGES_FILE).open("w", newline="") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL)
        w.writerow(["parentTopicId", "parrentTopicSlug", "childTopicId", "childTopicSlug"])
        w.writerows([(p, "", c, "") for p, c in [("0", "0"), *edges]])
    with (folder / NAMES_FILE).open("w", newline="") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL)
        w.writerow(["topicId", "language", "topicDisplayName"])
        w.writerows([(i, "fr", n + " (fr)") for i, _, n in topics])
    return folder
