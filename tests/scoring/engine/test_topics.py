"""Topic inference: tag mapping with ambiguity rules, influence by reactions, propagation, +K."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.engine import topics as topics_engine
from scoring.engine.topic_names import variants
from scoring.engine.topics import (
    Evidence,
    Ontology,
    PostTopics,
    TopicMatcher,
    TopicParams,
    ring_weights,
    shrink,
    topic_breadth,
    topic_scores,
)

# tech (category) -> software -> python, go ; tech -> physics -> quantum ; arts -> music -> go-band
IDS = ["tech", "software", "python", "golang", "physics", "quantum", "arts", "music", "goband"]
DEPTH = [1, 2, 3, 3, 2, 3, 1, 2, 3]
EDGES = [
    ("tech", "software"),
    ("software", "python"),
    ("software", "golang"),
    ("tech", "physics"),
    ("physics", "quantum"),
    ("arts", "music"),
    ("music", "goband"),
]
ONTOLOGY = Ontology.build(IDS, DEPTH, EDGES)
AT = {t: i for i, t in enumerate(IDS)}
NAMES = {
    "python": ["Python"],
    "golang": ["Go"],
    "goband": ["Go"],
    "quantum": ["Quantum Computing"],
    "software": ["Software Development"],
    "physics": ["Physics"],
    "music": ["Music"],
    "tech": ["Technology"],
    "arts": ["Arts"],
}
AS_OF = 100 * 86_400.0


def _matcher() -> TopicMatcher:
    aliases: dict[str, list[int]] = {}
    for topic, names in NAMES.items():
        for name in names:
            for form in variants(name):
                aliases.setdefault(form, []).append(AT[topic])
    return TopicMatcher(aliases, ONTOLOGY)


def _pairs(pt: PostTopics) -> set[tuple[int, str, float]]:
    return {
        (p, IDS[t], w)
        for p, t, w in zip(pt.post.tolist(), pt.topic.tolist(), pt.weight.tolist(), strict=True)
    }


def test_ontology_knows_each_topics_category():
    assert [IDS[c] for c in ONTOLOGY.category] == [
        "tech", "tech", "tech", "tech", "tech", "tech", "arts", "arts", "arts"
    ]  # fmt: skip


def test_exact_and_partial_tags_map_with_their_weights():
    pt = _matcher().match([["python"], ["quantum-computing"], ["python-3.x"], ["knitting"]])

    assert _pairs(pt) == {(0, "python", 1.0), (1, "quantum", 1.0), (2, "python", 0.5)}
    assert pt.unmapped == {"knitting": 1}


def test_an_ambiguous_short_name_needs_corroboration_from_the_same_post():
    pt = _matcher().match([["go"], ["go", "python"], ["go", "music"]])

    # alone: dropped; with Python (tech): the Go language; with Music (arts): the band
    assert _pairs(pt) == {
        (1, "golang", 1.0),
        (1, "python", 1.0),
        (2, "goband", 1.0),
        (2, "music", 1.0),
    }


def test_hashtags_and_case_and_plurals_map_too():
    pt = _matcher().match([["#QuantumComputing"], ["PYTHONS"]])
    assert _pairs(pt) == {(0, "quantum", 1.0), (1, "python", 1.0)}


def _score(
    reactions: Sequence[tuple[int, int, float]],
    post_author: list[int],
    post_tags: list[list[str]],
    n: int,
    **kwargs: object,
):
    """Run topic_scores with every pair weighted 1 by the influence matrix."""
    actor = np.asarray([a for a, _, _ in reactions], dtype=np.int64)
    post = np.asarray([p for _, p, _ in reactions], dtype=np.int64)
    receiver = np.asarray(post_author, dtype=np.int64)[post] if len(post) else post
    weight = np.asarray([w for _, _, w in reactions], dtype=np.float64)
    influence = sp.csr_array((n, n))
    if len(actor):
        influence = sp.csr_array((weight, (actor, receiver)), shape=(n, n))
        influence.sum_duplicates()
    return topic_scores(
        n_people=n,
        actor=actor,
        receiver=receiver,
        post=post,
        influence=influence,
        evidence=Evidence(
            author=np.asarray(post_author, dtype=np.int64),
            time=np.zeros(len(post_author)),
        ),
        post_topics=_matcher().match(post_tags),
        ontology=ONTOLOGY,
        as_of=AS_OF,
        **kwargs,  # type: ignore[arg-type]
    )


def _of(result, subject: int) -> dict[str, float]:
    return {
        IDS[t]: s
        for p, t, s in zip(
            result.subject.tolist(), result.topic.tolist(), result.score.tolist(), strict=True
        )
        if p == subject
    }


def test_reactions_on_posts_about_a_topic_make_it_a_topic_posting_alone_does_not():
    # person 0 posts about Python and gets 3 reactors; person 1 posts about Quantum, none react
    result = _score(
        [(2, 0, 1), (3, 0, 1), (4, 0, 1)], [0, 1], [["python"], ["quantum-computing"]], n=5
    )

    assert "python" in _of(result, 0)
    assert _of(result, 1) == {}
    row = int(np.flatnonzero((result.subject == 0) & (result.topic == AT["python"]))[0])
    assert (result.posts[row], result.reactions[row], result.reactors[row]) == (1, 3, 3)
    assert result.evidence[row] == [0]
    assert result.rank[row] == 1


def test_influence_flows_to_parent_topics_with_damping():
    result = _score([(2, 0, 1), (3, 0, 1)], [0], [["python"]], n=4)

    rows = {IDS[t]: i for i, t in enumerate(result.topic.tolist())}
    assert {"python", "software", "tech"} <= set(rows)
    assert result.raw[rows["software"]] < result.raw[rows["python"]]
    assert result.raw[rows["tech"]] < result.raw[rows["software"]]
    assert result.inherited[rows["software"]]
    assert not result.inherited[rows["python"]]


def test_more_weighted_reactions_mean_a_higher_topic_score():
    # 0 gets 2 reactions, 1 gets 6 on Python posts; 10 others have weak Python evidence
    reactions: list[tuple[int, int, float]] = [(20, 0, 1), (21, 0, 1)]
    reactions += [(20 + i, 1, 1) for i in range(6)]
    authors = [0, 1, *list(range(2, 12))]
    tags = [["python"]] * 12
    reactions += [(30, 2 + i, 0.2) for i in range(10)]
    result = _score(reactions, authors, tags, n=40)

    assert _of(result, 1)["python"] > _of(result, 0)["python"] > _of(result, 2)["python"]


def test_the_top_of_a_small_topic_and_of_a_big_topic_both_score_high():
    # Quantum: 1 person with 2 reactors; Python: 30 people, the best with 40 reactors
    reactions = [(100, 0, 1), (101, 0, 1)]
    reactions += [
        (100 + j, 1 + i, 1) for i in range(30) for j in range(1 + i + (10 if i == 29 else 0))
    ]
    authors = [0] + [1 + i for i in range(30)]
    tags = [["quantum-computing"]] + [["python"]] * 30
    result = _score(reactions, authors, tags, n=200)

    assert _of(result, 0)["quantum"] >= 85
    assert _of(result, 30)["python"] >= 85
    assert _of(result, 1)["python"] < 50


def _plus_k_case(givers: list[tuple[int, int]]) -> float:
    """Person 0 has Python evidence; +K from `givers` (giver, receiver) on Python."""
    reactions = [(50, 0, 1), (51, 0, 1), (50, 1, 1), (51, 1, 1)]
    g = np.asarray([a for a, _ in givers], dtype=np.int64)
    r = np.asarray([b for _, b in givers], dtype=np.int64)
    result = _score(
        reactions,
        [0, 1],
        [["python"], ["python"]],
        n=60,
        plus_k=(g, r, np.full(g.shape[0], AT["python"])),
    )
    return _of(result, 0)["python"]


def test_a_ring_of_ten_gains_less_than_ten_independent_givers():
    ring = [10 + i for i in range(10)]
    # the ring: each member +Ks person 0, person 0 +Ks them back, and they +K each other
    ring_edges = [(m, 0) for m in ring] + [(0, m) for m in ring]
    ring_edges += [(ring[i], ring[(i + 1) % 10]) for i in range(10)]
    independent = [(30 + i, 0) for i in range(10)]
    none = _plus_k_case([])

    assert none < _plus_k_case(ring_edges) < _plus_k_case(independent)


def test_plus_k_weight_is_bounded():
    many = [(5 + i, 0) for i in range(50)]
    few = [(5 + i, 0) for i in range(10)]
    assert _plus_k_case(many) == _plus_k_case(few)  # capped


def test_plus_k_alone_never_makes_a_topic_beyond_added():
    result = _score(
        [],
        [0],
        [["python"]],
        n=20,
        plus_k=(np.arange(1, 11), np.zeros(10, dtype=np.int64), np.full(10, AT["python"])),
        added=(np.asarray([0]), np.asarray([AT["quantum"]])),
    )

    assert _of(result, 0) == {"quantum": TopicParams().added_score}
    assert bool(result.added[0])


def test_hidden_topics_are_never_shown():
    result = _score(
        [(2, 0, 1), (3, 0, 1)],
        [0],
        [["python"]],
        n=4,
        hidden=(np.asarray([0]), np.asarray([AT["python"]])),
    )

    assert "python" not in _of(result, 0)
    assert "software" in _of(result, 0)


def test_groups_combine_their_members_evidence():
    result = _score([(5, 0, 1), (6, 1, 1)], [0, 1], [["python"], ["python"]], n=8, groups=[[0, 1]])
    row = int(np.flatnonzero((result.subject == 8) & (result.topic == AT["python"]))[0])
    assert (result.posts[row], result.reactors[row]) == (2, 2)


def test_ring_weights_discount_only_closed_circles():
    giver = np.asarray([0, 1, 2, 3], dtype=np.int64)
    receiver = np.asarray([1, 0, 4, 4], dtype=np.int64)
    assert ring_weights(giver, receiver, 5, 0.2).tolist() == [0.2, 0.2, 1.0, 1.0]


def test_topic_breadth_is_zero_for_one_sub_topic_and_higher_for_several():
    pt = _matcher().match([["python"], ["python"], ["python"], ["quantum-computing"], []])
    authors = np.asarray([0, 0, 1, 1, 1], dtype=np.int64)
    breadth = topic_breadth(authors, pt, ONTOLOGY, 5)

    assert breadth[0] == breadth[1] == 0.0
    assert breadth[2] == breadth[3] == pytest.approx(0.5)
    assert np.isnan(breadth[4])


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(5, 15), st.integers(0, 4), st.floats(0.1, 2.0)),
        max_size=30,
    )
)
def test_topic_scores_are_bounded_and_deterministic(reactions):
    tags = [["python"], ["quantum-computing"], ["python", "go"], ["music"], ["go"]]
    first = _score(reactions, [0, 1, 2, 3, 4], tags, n=16)
    second = _score(reactions, [0, 1, 2, 3, 4], tags, n=16)

    assert np.all((first.score >= 1) & (first.score <= 100))
    assert np.array_equal(first.score, second.score)
    assert np.array_equal(first.topic, second.topic)


def _counts(rows: list[dict[str, int]]) -> sp.csr_array:
    """A (people x topics) matrix of post counts from one {topic: posts} dict per person."""
    people = [i for i, row in enumerate(rows) for _ in row]
    topics = [AT[t] for row in rows for t in row]
    counts = [float(c) for row in rows for c in row.values()]
    return sp.csr_array((counts, (people, topics)), shape=(len(rows), len(IDS)))


def test_the_prior_weighs_little_when_people_specialise_and_much_when_they_post_alike():
    specialists = _counts([{"python": 5}] * 10 + [{"quantum": 5}] * 10)
    alike = _counts([{"python": 3, "quantum": 2}] * 10 + [{"python": 4, "quantum": 1}] * 10)

    alpha_specialists, prior = shrink(specialists, ONTOLOGY, 0.5)
    alpha_alike, _ = shrink(alike, ONTOLOGY, 0.5)

    assert alpha_specialists < 1.0 < 100.0 < alpha_alike
    assert prior.sum() == pytest.approx(1.0)
    # the prior is propagated to parents like influence: Software holds half of Python's posts
    assert prior[AT["software"]] == pytest.approx(prior[AT["python"]] * 0.5)
    # nothing to estimate from (no one posted twice): own evidence only
    assert shrink(_counts([{"python": 1}, {"quantum": 1}]), ONTOLOGY, 0.5)[0] == 0.0


def test_thin_evidence_leans_on_the_population_and_rich_evidence_on_its_own():
    # 30 people post 4 times: 3 about Python and 1 about Quantum (nobody reacts to those)
    authors = [p for p in range(30) for _ in range(4)]
    tags = [["python"], ["python"], ["python"], ["quantum-computing"]] * 30
    reactions: list[tuple[int, int, float]] = []

    def post(author: int, tag: str, reactors: list[int]) -> None:
        reactions.extend((r, len(authors), 1.0) for r in reactors)
        authors.append(author)
        tags.append([tag])

    # 30 (thin): a Python post with 2 reactors, a Quantum post with 3
    post(30, "python", [32, 33])
    post(30, "quantum-computing", [32, 33, 34])
    # 31 (rich): 9 Quantum posts with 3 reactors each, a Python post with 2
    for _ in range(9):
        post(31, "quantum-computing", [32, 33, 34])
    post(31, "python", [32, 33])
    result = _score(reactions, authors, tags, n=35)

    def rows(subject: int) -> dict[str, int]:
        return {
            IDS[int(result.topic[i])]: int(i) for i in np.flatnonzero(result.subject == subject)
        }

    thin, rich = rows(30), rows(31)
    assert 2.0 < result.prior_weight < 1000.0
    # thin: more reactions on Quantum, but two posts say little; most people post about Python
    assert result.raw[thin["quantum"]] > result.raw[thin["python"]]
    assert result.rank[thin["python"]] < result.rank[thin["quantum"]]
    # rich: far more evidence than the prior weighs, so its own strongest topic comes first
    assert result.rank[rich["quantum"]] < result.rank[rich["python"]]


# --- the fast shapes give what the plain numpy calls give ---------------------------------------
small_ints = st.lists(st.integers(0, 6), min_size=0, max_size=60)


@settings(max_examples=60, deadline=None)
@given(small_ints, st.data())
def test_grouped_order_is_lexsorts_order(groups, data):
    n = len(groups)
    value = np.asarray(
        data.draw(st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=n, max_size=n))
    )
    tie = np.asarray(data.draw(st.lists(st.sampled_from([1.0, 2.0]), min_size=n, max_size=n)))
    group = np.asarray(groups, dtype=np.int64)
    last = np.arange(n)  # makes every row distinct, as the engine's (subject, topic) rows are

    got = topics_engine._grouped_desc(group, value, -tie, last)

    assert np.array_equal(got, np.lexsort((last, -tie, -value, group)))


@pytest.mark.parametrize("packed", [True, False])
def test_pair_sort_and_unique_inverse_match_numpy_packed_or_not(packed):
    rng = np.random.default_rng(3)
    key = rng.integers(0, 50, 500)
    payload = rng.integers(0, 20, 500)
    bound = 50 if packed else 2**62  # too wide to pack: the argsort path

    got_key, got_payload = topics_engine._sort_pairs(key.copy(), payload, bound, 20)
    uniq, inverse = topics_engine._unique_inverse(key, bound)

    order = np.lexsort((payload, key))
    assert np.array_equal(got_key, key[order])
    assert np.array_equal(got_payload, payload[order])
    want_uniq, want_inverse = np.unique(key, return_inverse=True)
    assert np.array_equal(uniq, want_uniq)
    assert np.array_equal(inverse, want_inverse)


def test_distinct_reactors_are_the_same_in_one_slice_or_many(monkeypatch):
    reactions = [(10 + i % 7, i % 5, 1.0) for i in range(40)] + [(12, 0, 1.0)] * 3
    tags = [["python"], ["python", "quantum-computing"], ["music"], ["python"], ["go", "python"]]
    whole = _score(reactions, [0, 1, 0, 2, 1], tags, n=20)
    monkeypatch.setattr(topics_engine, "_PRODUCT_SLICE", 1)

    sliced = _score(reactions, [0, 1, 0, 2, 1], tags, n=20)

    assert np.array_equal(whole.reactors, sliced.reactors)
    assert whole.reactors.max() > 1
