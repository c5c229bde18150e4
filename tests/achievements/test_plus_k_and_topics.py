"""+K and topic figures reach the rules: the bulk path and the one-person page path agree."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from achievements.models import Unlock
from achievements.population import load_population
from achievements.queries import person_figures
from achievements.services import evaluate_achievements
from scoring.plusk import PlusK
from tests.factories.accounts import UserFactory
from tests.factories.scoring import DailyScoreFactory, ScoringRunFactory, accounts
from tests.factories.topics import TopicFactory, TopicScoreFactory

pytestmark = pytest.mark.django_db


def give(giver, receiver, topic, *, slot: int = 1) -> PlusK:
    now = timezone.now()
    return PlusK.objects.create(
        giver=giver,
        receiver_user=receiver,
        receiver_klout_id=1_000 + receiver.pk,
        topic=topic,
        day=now.date(),
        slot=slot,
        created_at=now,
        expires_at=now + dt.timedelta(days=7),
    )


@pytest.fixture
def expert_alice(alice, bob):
    """Ten people +K Alice on Python; Alice +Ks Bob; Alice tops a topic of 25 subjects."""
    python, gardening = TopicFactory.create(), TopicFactory.create()
    for giver in UserFactory.create_batch(10):
        give(giver, alice, python)
    give(UserFactory.create(), alice, gardening)
    give(alice, bob, python)
    run = ScoringRunFactory.create(day=dt.date(2026, 11, 1))
    DailyScoreFactory.create(run=run, user=alice, account=None, score=40.0)
    for i, account in enumerate(accounts("topical", 24)):
        TopicScoreFactory.create(run=run, account=account, topic=python, score=10.0 + i)
    TopicScoreFactory.create(run=run, user=alice, topic=python, score=99.0)
    return run


def test_plus_k_and_topic_rules_unlock_from_the_bulk_figures(alice, bob, expert_alice):
    evaluate_achievements(run_id=expert_alice.pk)

    held = dict(
        Unlock.objects.filter(user=alice).order_by("level").values_list("achievement", "level")
    )
    assert held["plus_k_topic"] == 3  # 10 +K on one topic
    assert held["plus_k_given"] == 1  # first +K given
    assert held["topic_top"] == 3  # top of 25 on Python
    assert "plus_k_given" not in dict(
        Unlock.objects.filter(user=bob).values_list("achievement", "level")
    )


def test_the_page_path_counts_what_the_bulk_path_counts(alice, bob, expert_alice):
    bulk = load_population(run_id=expert_alice.pk).of(alice.pk)
    page = person_figures(alice.pk)
    for figure in ("plus_k_given", "plus_k_topic_max", "topic_percentile", "networks_linked"):
        assert bulk[figure] == page[figure], figure
    assert bulk["plus_k_topic_max"] == 10
    assert bulk["topic_percentile"] == 100


def test_a_taken_back_plus_k_does_not_count(alice, bob, expert_alice):
    PlusK.objects.filter(giver=alice).update(taken_back_at=timezone.now(), slot=None)
    assert load_population(run_id=expert_alice.pk).of(alice.pk)["plus_k_given"] == 0
