"""Topics inside the scoring run: tags -> topics -> topic scores written with the day."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from networks.models import Network, NetworkAccount, Post
from scoring import services
from scoring.kloutids import klout_ids_of
from scoring.models import ScoringRun
from scoring.ontology import import_ontology
from scoring.topics import ChoiceState, TopicChoice, TopicScore
from tests.factories.networks import PostFactory
from tests.factories.scoring import DAY, accounts, noon, react
from tests.factories.topics import SMALL_EDGES, SMALL_TOPICS, write_ontology

pytestmark = pytest.mark.django_db


@pytest.fixture
def ontology(tmp_path):
    import_ontology(path=write_ontology(tmp_path / "o", SMALL_TOPICS, SMALL_EDGES))


def _posts(author: NetworkAccount, tags: list[str], n: int, *, day: dt.date = DAY) -> list[Post]:
    return [
        PostFactory.create(account=author, tags=tags, posted_at=noon(day) - dt.timedelta(hours=1))
        for _ in range(n)
    ]


def _world(alice, *, reactors: int = 5):
    """Alice's account posts about Python, an unclaimed account about Quantum Computing."""
    mine, other = accounts(f"topic-author{reactors}-", 2)
    NetworkAccount.objects.filter(pk=mine.pk).update(user=alice)
    fans = accounts(f"fan{reactors}-", reactors)
    python_posts = _posts(mine, ["python"], 3)
    quantum_posts = _posts(other, ["quantum-computing"], 2)
    for i, fan in enumerate(fans):
        react([(fan, mine)], at=noon(DAY), post=python_posts[i % 3])
        react([(fan, other)], at=noon(DAY), post=quantum_posts[i % 2])
    return mine, other, python_posts


def test_a_published_day_has_topic_scores_with_evidence(ontology, alice):
    _mine, other, python_posts = _world(alice)

    run = services.compute_day(day=DAY)

    hers = {r.topic.slug: r for r in TopicScore.objects.current().for_subject(user_id=alice.pk)}
    assert set(hers) >= {"python", "software-development"}
    python = hers["python"]
    assert (python.posts, python.reactors, python.reactions) == (3, 5, 5)
    assert set(python.evidence) <= {p.pk for p in python_posts}
    assert python.evidence
    assert python.rank == 1
    assert 1 <= python.score <= 100
    assert hers["software-development"].inherited
    theirs = TopicScore.objects.current().for_subject(account_id=other.pk)
    assert next(r.topic.slug for r in theirs) == "quantum-computing"
    assert run.stats["topics"]["topic_scores"] == TopicScore.objects.filter(run=run).count()


def test_up_votes_count_as_anonymous_reactions_with_a_neutral_weight(ontology):
    voted, unvoted, fan = accounts("voted", 3, network=Network.STACKEXCHANGE)
    for author, votes in ((voted, 4), (unvoted, 0)):
        PostFactory.create(
            account=author,
            network=Network.STACKEXCHANGE,
            tags=["python"],
            anonymous_reactions=votes,
            posted_at=noon(DAY) - dt.timedelta(hours=2),
        )
        untagged = PostFactory.create(
            account=author, network=Network.STACKEXCHANGE, posted_at=noon(DAY)
        )
        react([(fan, author)], at=noon(DAY), post=untagged)  # both are in the window alike

    run = services.compute_day(day=DAY)

    rows = TopicScore.objects.filter(run=run, topic__slug="python")
    row = rows.get(account=voted)
    # 4 up-votes and no one named behind them: reactions, not reactors
    assert (row.posts, row.reactions, row.reactors) == (1, 4, 0)
    assert row.raw > 0
    assert not rows.filter(account=unvoted).exists()


def test_a_hidden_topic_is_left_out_of_every_later_run(ontology, alice):
    mine, _, _ = _world(alice)
    TopicChoice.objects.create(user=alice, topic_id="2", state=ChoiceState.HIDDEN)

    run = services.compute_day(day=DAY)

    rows = TopicScore.objects.filter(run=run, topic_id="2")
    assert not rows.filter(user=alice).exists()
    assert not rows.filter(account=mine).exists()


def test_an_added_topic_is_shown_as_added(ontology, alice):
    _world(alice)
    TopicChoice.objects.create(user=alice, topic_id="4", state=ChoiceState.ADDED)

    run = services.compute_day(day=DAY)

    row = TopicScore.objects.get(run=run, user=alice, topic_id="4")
    assert row.added
    assert row.posts == 0
    assert row.score < TopicScore.objects.get(run=run, user=alice, topic_id="2").score


def test_hashtags_in_mastodon_text_map_to_topics(ontology):
    author, fan = accounts("masto", 2, network=Network.MASTODON)
    post = PostFactory.create(
        account=author,
        network=Network.MASTODON,
        text="New release! #Python #QuantumComputing",
        posted_at=noon(DAY),
    )
    react([(fan, author)], at=noon(DAY), post=post)

    run = services.compute_day(day=DAY)

    slugs = set(
        TopicScore.objects.filter(run=run, account=author).values_list("topic__slug", flat=True)
    )
    assert {"python", "quantum-computing"} <= slugs


def test_discarding_a_run_removes_its_topic_scores(ontology, alice, settings):
    _world(alice)
    run = services.compute_day(day=DAY)
    assert TopicScore.objects.filter(run=run).exists()
    # a published run stays; a held one can be discarded
    TopicScore.objects.filter(run=run).delete()
    run2 = services.compute_day(day=DAY + dt.timedelta(days=1))
    type(run2).objects.filter(pk=run2.pk).update(status="held")

    services.discard_run(run_id=run2.pk, user_id=alice.pk)

    assert not TopicScore.objects.filter(run=run2).exists()


def _measure(day: dt.date) -> int:
    with CaptureQueriesContext(connection) as queries:
        services.compute_day(day=day)
    ScoringRun.objects.all().delete()
    return len(queries.captured_queries)


def test_topic_inference_reads_in_a_constant_number_of_queries(ontology, alice, bob):
    _world(alice, reactors=4)
    services.compute_day(day=DAY)  # version, calibration, kloutIds, the ontology's automaton
    ScoringRun.objects.all().delete()
    small = _measure(DAY)
    _world(bob, reactors=40)
    klout_ids_of(account_ids=NetworkAccount.objects.values_list("pk", flat=True), user_ids=[bob.pk])

    large = _measure(DAY)

    assert large == small


def test_opting_out_removes_a_persons_topic_scores(ontology, alice):
    mine, _, _ = _world(alice)
    run = services.compute_day(day=DAY)
    assert TopicScore.objects.filter(run=run, user=alice).exists()

    services.remove_scores_for_user(user_id=alice.pk)

    assert not TopicScore.objects.filter(user=alice).exists()
    assert not TopicScore.objects.filter(account=mine).exists()
