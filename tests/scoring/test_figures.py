"""Person figures found in bulk by the scoring run equal what counting the store one by one says."""

from __future__ import annotations

import datetime as dt

import pytest

from networks.models import InteractionKind, PostKind
from scoring.models import PersonFigures, RunStatus
from scoring.services import compute_day, discard_run
from tests.factories.accounts import UserFactory
from tests.factories.networks import PostFactory
from tests.factories.scoring import DAY, accounts, noon, react

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_world():
    """Alice (two linked accounts) is mentioned, shared and replied to by strangers over days."""
    alice = UserFactory.create(email="alice@example.com")
    main, second = accounts("alice", 2, user=alice)
    fans = accounts("fan", 12)
    star = accounts("star", 1)[0]
    popular = PostFactory.create(account=main, posted_at=noon(DAY - dt.timedelta(days=3)))
    other = PostFactory.create(
        account=second, posted_at=noon(DAY - dt.timedelta(days=2)), kind=PostKind.REPLY
    )
    quiet = PostFactory.create(account=main, posted_at=noon(DAY - dt.timedelta(days=2)))
    # Seven distinct fans share the popular post, two of them twice; three share the other one.
    react([(f, main) for f in fans[:7]], at=noon(DAY - dt.timedelta(days=2)), post=popular)
    react([(f, main) for f in fans[:2]], at=noon(DAY - dt.timedelta(days=1)), post=popular)
    react([(f, second) for f in fans[7:10]], at=noon(DAY - dt.timedelta(days=1)), post=other)
    react([(fans[11], main)], at=noon(DAY), kind=InteractionKind.LIKE, post=quiet)
    # Mentions: five fans on one day, three (two repeated) the next: eight unique mentioners.
    mention = InteractionKind.MENTION
    react([(f, main) for f in fans[:5]], at=noon(DAY - dt.timedelta(days=4)), kind=mention)
    react([(f, second) for f in fans[3:8]], at=noon(DAY - dt.timedelta(days=3)), kind=mention)
    # Alice's own accounts mentioning each other do not count.
    react([(second, main)], at=noon(DAY - dt.timedelta(days=3)), kind=mention)
    # A star, scored higher through many fans, first reacts to Alice today.
    react([(f, star) for f in fans], at=noon(DAY - dt.timedelta(days=5)))
    react([(f, star) for f in fans], at=noon(DAY - dt.timedelta(days=4)))
    react([(star, main)], at=dt.datetime.combine(DAY, dt.time(21), tzinfo=dt.UTC))
    return {"alice": alice, "main": main, "star": star, "fans": fans}


def test_the_run_stores_figures_that_match_counting_by_hand(alice_world):
    run = compute_day(day=DAY)

    figures = PersonFigures.objects.get(run=run, user=alice_world["alice"])
    assert figures.day == DAY
    assert figures.mentioners == 8
    assert figures.mentioners_one_day == 5
    assert figures.top_post_sharers == 7
    assert figures.posts_shared == 2
    assert figures.top_moment_reactions == 9  # 7 + 2 repeated shares of the popular post
    assert figures.actions_received == 7 + 2 + 3 + 1 + 5 + 5 + 1
    assert figures.top_network == "dev"
    assert figures.top_network_share == 100
    assert figures.top_post_kind == "original"
    assert figures.top_post_kind_share == round(100 * 10 / 13)
    assert figures.top_hour == 12
    assert figures.top_influencee_id in {f.pk for f in alice_world["fans"]}


def test_a_higher_scored_account_acting_for_the_first_time_today_is_named(alice_world):
    run = compute_day(day=DAY)

    figures = PersonFigures.objects.get(run=run, user=alice_world["alice"])
    assert figures.new_high_actor_id == alice_world["star"].pk
    assert figures.new_high_actor_score is not None
    assert figures.new_high_actor_score > figures.score


def test_only_linked_users_get_figures_and_a_discarded_run_loses_them(
    alice_world, django_user_model
):
    run = compute_day(day=DAY)
    assert PersonFigures.objects.filter(run=run).count() == 1

    # A held run may be discarded: its figures go with its scores.
    type(run).objects.filter(pk=run.pk).update(status=RunStatus.HELD)
    staff = django_user_model.objects.create(email="staff@example.com", is_staff=True)
    discard_run(run_id=run.pk, user_id=staff.pk)
    assert not PersonFigures.objects.filter(run=run).exists()
