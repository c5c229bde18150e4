"""Topic names: one normal form for tags, hashtags and ontology names; the topicType rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.engine.topic_names import (
    ENTITY,
    SUB,
    aliases,
    depths,
    normalise,
    topic_type,
    variants,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Machine-Learning", "machine learning"),
        ("machine_learning", "machine learning"),
        ("  MACHINE   LEARNING ", "machine learning"),
        ("C++", "cpp"),
        ("c++11", "cpp11"),
        ("C#", "csharp"),
        ("F#", "fsharp"),
        (".NET", "dotnet"),
        ("Réunion", "reunion"),
        ("Women's Rights", "womens rights"),
        ("R&B", "r and b"),
        ("panic!-at-the-disco", "panic at the disco"),
        ("Computación Cuántica", "computacion cuantica"),
    ],
)
def test_normalise_gives_one_form_per_name(text, expected):
    assert normalise(text) == expected


@given(st.text())
def test_normalise_is_idempotent_and_plain(text):
    once = normalise(text)
    assert normalise(once) == once
    assert once == once.strip()
    assert "  " not in once
    assert all(c.isascii() and (c.isalnum() or c == " ") for c in once)


def test_variants_cover_plural_and_spaceless_forms():
    assert {"quantum algorithm", "quantum algorithms", "quantumalgorithm"} <= variants(
        "Quantum-Algorithms"
    )
    assert "cryptocurrencies" in variants("cryptocurrency")
    assert "class" in variants("classes")
    assert "indexes" in variants("index")
    assert variants("Go") == {"go"}  # too short to inflect


def test_aliases_name_where_each_form_came_from():
    found = aliases("c-plus-plus", ["C++", "C++", "C++"])
    assert found["c plus plus"] == "slug"
    assert found["cpp"] == "name"
    assert found["cplusplus"] == "variant"


def test_depths_are_shortest_distances_from_the_root():
    edges = [("0", "0"), ("0", "tech"), ("tech", "dev"), ("dev", "python"), ("tech", "python")]
    assert depths(edges, "0") == {"0": 0, "tech": 1, "dev": 2, "python": 2}


@pytest.mark.parametrize(
    ("depth", "expected"), [(0, ENTITY), (1, SUB), (2, SUB), (3, ENTITY), (7, ENTITY)]
)
def test_topic_type_is_sub_for_the_top_two_levels(depth, expected):
    assert topic_type(depth) == expected
