"""The Klout topic ontology loads idempotently, with derived topic types and aliases."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from scoring.ontology import (
    EDGES_FILE,
    TOPICS_FILE,
    OntologyError,
    default_path,
    import_ontology,
)
from scoring.topics import Topic, TopicAlias, TopicEdge
from tests.factories.topics import write_ontology

pytestmark = pytest.mark.django_db


SMALL = [
    ("10000000000000000007", "technology-super", "Technology"),
    ("1", "software-development", "Software Development"),
    ("2", "c-plus-plus", "C++"),
    ("3", "algorithms", "Algorithms"),
]
SMALL_EDGES = [("0", "10000000000000000007"), ("10000000000000000007", "1"), ("1", "2"), ("1", "3")]


@pytest.mark.slow
def test_the_shipped_ontology_loads_once_with_the_specs_topic_types():
    first = import_ontology()

    assert (first.topics, first.created) == (8033, 8033)
    assert Topic.objects.count() == 8033
    assert Topic.objects.categories().count() == 16
    assert first.edges == TopicEdge.objects.count() > 13_000
    # the spec's examples
    assert Topic.objects.get(slug="software-development").topic_type == "sub"
    assert Topic.objects.get(slug="timbaland").topic_type == "entity"
    # ids beyond int64 stay exact text
    quantum = Topic.objects.get(slug="quantum-computing")
    assert quantum.id == "10000000000000019130"
    assert quantum.name_in("es") == "Computación Cuántica"
    assert set(TopicAlias.objects.filter(topic=quantum).values_list("alias", flat=True)) >= {
        "quantum computing",
        "quantumcomputing",
        "computacion cuantica",
    }
    assert TopicAlias.objects.filter(alias="cpp", topic__slug="c-plus-plus").exists()

    again = import_ontology()

    assert (again.created, again.updated, again.removed) == (0, 0, 0)
    assert Topic.objects.count() == 8033
    assert TopicAlias.objects.count() == first.aliases


def test_a_small_ontology_gets_depths_types_edges_and_aliases(tmp_path):
    counts = import_ontology(path=write_ontology(tmp_path / "o", SMALL, SMALL_EDGES))

    assert (counts.topics, counts.edges, counts.sub, counts.entity) == (4, 3, 2, 2)
    types = dict(Topic.objects.values_list("slug", "topic_type"))
    assert types == {
        "technology-super": "sub",
        "software-development": "sub",
        "c-plus-plus": "entity",
        "algorithms": "entity",
    }
    assert Topic.objects.get(slug="algorithms").names == {
        "en": "Algorithms",
        "fr": "Algorithms (fr)",
    }
    assert TopicAlias.objects.filter(alias="algorithm", topic_id="3").exists()


def test_a_changed_ontology_converges(tmp_path):
    import_ontology(path=write_ontology(tmp_path / "a", SMALL, SMALL_EDGES))
    renamed = [*SMALL[:3], ("4", "cryptography", "Cryptography")]
    edges = [*SMALL_EDGES[:3], ("1", "4")]

    counts = import_ontology(path=write_ontology(tmp_path / "b", renamed, edges))

    assert (counts.created, counts.removed) == (1, 1)
    assert set(Topic.objects.values_list("slug", flat=True)) == {s for _, s, _ in renamed}
    assert set(TopicEdge.objects.values_list("parent_id", "child_id")) == {
        ("10000000000000000007", "1"),
        ("1", "2"),
        ("1", "4"),
    }
    assert not TopicAlias.objects.filter(alias="algorithm").exists()


def test_a_slug_can_move_to_another_topic(tmp_path):
    import_ontology(path=write_ontology(tmp_path / "a", SMALL, SMALL_EDGES))
    swapped = [SMALL[0], SMALL[1], ("2", "algorithms", "Algorithms"), ("3", "c-plus-plus", "C++")]

    counts = import_ontology(path=write_ontology(tmp_path / "b", swapped, SMALL_EDGES))

    assert counts.updated == 2
    assert Topic.objects.get(slug="algorithms").pk == "2"


def test_edges_to_unknown_topics_are_skipped_and_counted(tmp_path):
    counts = import_ontology(
        path=write_ontology(tmp_path / "o", SMALL, [*SMALL_EDGES, ("99", "3")])
    )

    assert counts.skipped_edges == 1
    assert not TopicEdge.objects.filter(parent_id="99").exists()


def test_a_missing_file_is_one_clear_error_and_nothing_is_written(tmp_path):
    folder = write_ontology(tmp_path / "o", SMALL, SMALL_EDGES)
    (folder / EDGES_FILE).unlink()

    with pytest.raises(OntologyError, match="missing"):
        import_ontology(path=folder)
    with pytest.raises(CommandError, match="missing"):
        call_command("import_topics", str(folder))
    assert not Topic.objects.exists()


def test_a_file_without_its_columns_is_refused(tmp_path):
    folder = write_ontology(tmp_path / "o", SMALL, SMALL_EDGES)
    (folder / TOPICS_FILE).write_text('"id","name"\n"1","x"\n')

    with pytest.raises(OntologyError, match="no column topicId, topicSlug"):
        import_ontology(path=folder)


def test_the_command_says_what_it_loaded(tmp_path, capsys):
    call_command("import_topics", str(write_ontology(tmp_path / "o", SMALL, SMALL_EDGES)))

    out = capsys.readouterr().out
    assert "Topics: 4 (2 sub, 2 entity), 3 edges" in out
    assert "4 new" in out


def test_default_path_is_the_shared_ontology():
    assert default_path().name == "klout-topic-ontology"
