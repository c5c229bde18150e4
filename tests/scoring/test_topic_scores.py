"""The topic-score read model: per run, immutable, pages read the latest published run only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction

from scoring.models import RunStatus
from scoring.topics import ChoiceState, ImmutableTopicScoreError, TopicChoice, TopicScore
from tests.factories.networks import NetworkAccountFactory
from tests.factories.scoring import DAY, AlgorithmVersionFactory, ScoringRunFactory
from tests.factories.topics import TopicFactory, TopicScoreFactory

pytestmark = pytest.mark.django_db


def test_current_rows_come_from_the_latest_published_run_only(alice):
    old = ScoringRunFactory.create(day=DAY)
    latest = ScoringRunFactory.create(day=DAY + dt.timedelta(days=1))
    held = ScoringRunFactory.create(day=DAY + dt.timedelta(days=2), status=RunStatus.HELD)
    other = ScoringRunFactory.create(
        day=DAY + dt.timedelta(days=3),
        version=AlgorithmVersionFactory.create(name="klout-2026.1", is_current=False),
    )
    topic = TopicFactory.create()
    for run in (old, latest, held, other):
        TopicScoreFactory.create(run=run, user=alice, topic=topic)

    current = TopicScore.objects.current().for_subject(user_id=alice.pk)

    assert [r.run_id for r in current] == [latest.pk]


def test_hidden_topics_are_not_shown_at_once(alice, bob):
    run = ScoringRunFactory.create()
    quantum, music = TopicFactory.create_batch(2)
    TopicScoreFactory.create(run=run, user=alice, topic=quantum, rank=1)
    TopicScoreFactory.create(run=run, user=alice, topic=music, rank=2)
    TopicScoreFactory.create(run=run, user=bob, topic=quantum)

    TopicChoice.objects.create(user=alice, topic=quantum, state=ChoiceState.HIDDEN)

    shown = TopicScore.objects.current().shown()
    assert [r.topic_id for r in shown.for_subject(user_id=alice.pk)] == [music.pk]
    assert [r.topic_id for r in shown.for_subject(user_id=bob.pk)] == [quantum.pk]


def test_an_accounts_topics_are_its_own():
    account, stranger = NetworkAccountFactory.create_batch(2)
    row = TopicScoreFactory.create(account=account)
    TopicScoreFactory.create(account=stranger, run=row.run)

    assert list(TopicScore.objects.current().for_subject(account_id=account.pk)) == [row]


def test_topic_scores_are_immutable(alice):
    row = TopicScoreFactory.create(user=alice)

    row.score = 99.0
    with pytest.raises(ImmutableTopicScoreError):
        row.save()
    with pytest.raises(ImmutableTopicScoreError):
        TopicScore.objects.filter(pk=row.pk).update(score=99.0)


def test_the_database_refuses_to_change_a_topic_score(alice):
    row = TopicScoreFactory.create(user=alice)

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE scoring_topicscore SET score = 99 WHERE id = %s", [row.pk])
    assert TopicScore.objects.get(pk=row.pk).score == row.score


@pytest.mark.parametrize(
    ("fields", "sentence"),
    [
        (
            {"reactors": 17, "posts": 6},
            "17 people reacted to 6 of your posts about Quantum Computing",
        ),
        (
            {"reactors": 1, "posts": 1},
            "1 person reacted to 1 of your posts about Quantum Computing",
        ),
        (
            {"reactors": 0, "reactions": 4, "posts": 1},
            "4 up-votes on 1 of your posts about Quantum Computing",
        ),
        (
            {"reactors": 0, "posts": 0, "inherited": True},
            "From your influence in topics within Quantum Computing",
        ),
        ({"reactors": 0, "posts": 0, "added": True}, "You added Quantum Computing yourself"),
        (
            {"reactors": 2, "posts": 3, "plus_k": 4},
            "2 people reacted to 3 of your posts about Quantum Computing; 4 +K",
        ),
    ],
)
def test_every_topic_says_why(alice, fields, sentence):
    topic = TopicFactory.create(display_name="Quantum Computing")
    row = TopicScoreFactory.create(user=alice, topic=topic, **fields)

    assert row.evidence_sentence == sentence
