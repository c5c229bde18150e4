"""+K: limits held by the database, tested under concurrency on PostgreSQL and across days."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import Notification, NotificationPreference, User
from networks.models import NetworkAccount
from scoring.kloutids import KloutId, klout_id_of
from scoring.plusk import PlusK, PlusKError, give_plus_k, remaining_today, take_back_plus_k
from scoring.topics import ChoiceState, TopicChoice
from tests.factories.accounts import UserFactory
from tests.factories.networks import NetworkAccountFactory
from tests.factories.scoring import AlgorithmVersionFactory, ScoringRunFactory
from tests.factories.topics import TopicFactory, TopicScoreFactory

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
LATE = dt.datetime(2026, 11, 20, 23, 59, 30, tzinfo=dt.UTC)


def _giver(email: str = "giver@example.com", *, joined: dt.datetime | None = None) -> User:
    user = UserFactory.create(email=email)
    User.objects.filter(pk=user.pk).update(date_joined=joined or NOON - dt.timedelta(days=3))
    NetworkAccountFactory.create(user=user)
    return User.objects.get(pk=user.pk)


def _with_topics(n: int, *, user: User | None = None, account: NetworkAccount | None = None):
    """A subject with n shown topics in the current published run; returns the topics."""
    run = ScoringRunFactory.create()
    topics = TopicFactory.create_batch(n)
    for rank, topic in enumerate(topics, start=1):
        TopicScoreFactory.create(run=run, user=user, account=account, topic=topic, rank=rank)
    return topics


def test_give_plus_k_stores_one_and_tells_the_receiver(alice):
    bob = _giver()
    (topic,) = _with_topics(1, user=alice)

    with_commit = give_plus_k(giver_id=bob.pk, klout_id=klout_id_of(user_id=alice.pk),
                              topic_id=topic.pk, now=NOON)  # fmt: skip

    assert with_commit.receiver_user_id == alice.pk
    assert remaining_today(user_id=bob.pk, now=NOON) == 4


def test_a_give_is_one_statement_and_the_receivers_notice_one_more(
    alice, django_capture_on_commit_callbacks
):
    bob = _giver()
    (topic,) = _with_topics(1, user=alice)
    kid = klout_id_of(user_id=alice.pk)

    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=True),
    ):
        give_plus_k(giver_id=bob.pk, klout_id=kid, topic_id=topic.pk, now=NOON)

    # the conditional INSERT; then the notice: one INSERT … ON CONFLICT that checks who is muted
    assert len(queries.captured_queries) == 2
    assert "INSERT INTO" in queries.captured_queries[0]["sql"]
    expected = f"{bob.public_name} gave you +K in {topic.display_name}"
    assert Notification.objects.get(user=alice).title == expected


def test_a_refusal_costs_one_more_statement_that_names_the_rule(alice):
    bob = _giver()
    topics = _with_topics(6, user=alice)
    kid = klout_id_of(user_id=alice.pk)
    for topic in topics[:5]:
        give_plus_k(giver_id=bob.pk, klout_id=kid, topic_id=topic.pk, now=NOON)

    with CaptureQueriesContext(connection) as queries, pytest.raises(PlusKError, match="5 \\+K"):
        give_plus_k(giver_id=bob.pk, klout_id=kid, topic_id=topics[5].pk, now=NOON)

    assert len(queries.captured_queries) == 2


def test_a_muted_receiver_is_not_notified(alice, django_capture_on_commit_callbacks):
    bob = _giver()
    (topic,) = _with_topics(1, user=alice)
    NotificationPreference.objects.create(user=alice, in_app=False)

    with django_capture_on_commit_callbacks(execute=True):
        give_plus_k(giver_id=bob.pk, klout_id=klout_id_of(user_id=alice.pk), topic_id=topic.pk)

    assert PlusK.objects.count() == 1
    assert not Notification.objects.exists()


def test_the_receiver_is_notified_on_commit(alice, django_capture_on_commit_callbacks):
    bob = _giver()
    (topic,) = _with_topics(1, user=alice)

    with django_capture_on_commit_callbacks(execute=True):
        give_plus_k(giver_id=bob.pk, klout_id=klout_id_of(user_id=alice.pk), topic_id=topic.pk)

    note = Notification.objects.get(user=alice)
    assert note.kind == "plus_k"
    assert topic.display_name in note.title


def test_give_plus_k_rejects_self_vouch_and_own_accounts():
    bob = _giver()
    own = NetworkAccount.objects.get(user=bob)
    (topic,) = _with_topics(1, user=bob)

    with pytest.raises(PlusKError, match="yourself"):
        give_plus_k(giver_id=bob.pk, klout_id=klout_id_of(user_id=bob.pk), topic_id=topic.pk)
    with pytest.raises(PlusKError, match="yourself"):
        # the account's own id resolves to its person: bob
        give_plus_k(giver_id=bob.pk, klout_id=klout_id_of(account_id=own.pk), topic_id=topic.pk)
    assert not PlusK.objects.exists()


def test_the_database_refuses_a_self_vouch_even_without_the_service(alice):
    (topic,) = _with_topics(1, user=alice)
    with pytest.raises(IntegrityError), transaction.atomic():
        PlusK.objects.create(
            giver=alice, receiver_user=alice, receiver_klout_id=1, topic=topic, day=NOON.date(),
            slot=1, created_at=NOON, expires_at=NOON + dt.timedelta(days=7),
        )  # fmt: skip


def test_the_database_refuses_a_sixth_slot_and_a_repeated_slot(alice):
    bob = _giver()
    topics = _with_topics(2, user=alice)
    fields = {
        "giver": bob, "receiver_user": alice, "receiver_klout_id": 1, "day": NOON.date(),
        "created_at": NOON, "expires_at": NOON + dt.timedelta(days=7),
    }  # fmt: skip
    PlusK.objects.create(topic=topics[0], slot=1, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        PlusK.objects.create(topic=topics[1], slot=1, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        PlusK.objects.create(topic=topics[1], slot=6, **fields)


def test_only_shown_topics_can_get_plus_k(alice):
    bob = _giver()
    shown, hidden = _with_topics(2, user=alice)
    stranger_topic = TopicFactory.create()
    TopicChoice.objects.create(user=alice, topic=hidden, state=ChoiceState.HIDDEN)
    kid = klout_id_of(user_id=alice.pk)

    for topic in (hidden, stranger_topic):
        with pytest.raises(PlusKError, match="topics shown"):
            give_plus_k(giver_id=bob.pk, klout_id=kid, topic_id=topic.pk, now=NOON)
    give_plus_k(giver_id=bob.pk, klout_id=kid, topic_id=shown.pk, now=NOON)


def test_a_new_person_or_one_without_a_network_cannot_give(alice):
    (topic,) = _with_topics(1, user=alice)
    kid = klout_id_of(user_id=alice.pk)
    newcomer = _giver("new@example.com", joined=NOON - dt.timedelta(hours=5))
    unlinked = UserFactory.create(email="unlinked@example.com")
    User.objects.filter(pk=unlinked.pk).update(date_joined=NOON - dt.timedelta(days=9))

    with pytest.raises(PlusKError, match="second day"):
        give_plus_k(giver_id=newcomer.pk, klout_id=kid, topic_id=topic.pk, now=NOON)
    with pytest.raises(PlusKError, match="link a network"):
        give_plus_k(giver_id=unlinked.pk, klout_id=kid, topic_id=topic.pk, now=NOON)


def test_unknown_klout_id_is_a_clear_error():
    bob = _giver()
    with pytest.raises(PlusKError, match="nobody"):
        give_plus_k(giver_id=bob.pk, klout_id="99999999", topic_id="1", now=NOON)


def test_at_most_five_a_day_and_the_limit_resets_at_midnight_utc(alice):
    bob = _giver()
    topics = _with_topics(8, user=alice)
    kid = klout_id_of(user_id=alice.pk)
    for topic in topics[:5]:
        give_plus_k(giver_id=bob.pk, klout_id=kid, topic_id=topic.pk, now=LATE)

    with pytest.raises(PlusKError, match="5 \\+K for today"):
        give_plus_k(giver_id=bob.pk, klout_id=kid, topic_id=topics[5].pk, now=LATE)
    assert remaining_today(user_id=bob.pk, now=LATE) == 0

    tomorrow = LATE + dt.timedelta(seconds=60)
    give_plus_k(giver_id=bob.pk, klout_id=kid, topic_id=topics[5].pk, now=tomorrow)
    assert remaining_today(user_id=bob.pk, now=tomorrow) == 4


def test_once_per_receiver_and_topic_in_any_seven_days_across_the_day_boundary(alice):
    bob = _giver()
    (topic,) = _with_topics(1, user=alice)
    kid = klout_id_of(user_id=alice.pk)
    give_plus_k(giver_id=bob.pk, klout_id=kid, topic_id=topic.pk, now=LATE)

    for later in (dt.timedelta(minutes=1), dt.timedelta(days=6, hours=23)):
        with pytest.raises(PlusKError, match="7 days"):
            give_plus_k(giver_id=bob.pk, klout_id=kid, topic_id=topic.pk, now=LATE + later)

    give_plus_k(giver_id=bob.pk, klout_id=kid, topic_id=topic.pk, now=LATE + dt.timedelta(days=7))
    assert PlusK.objects.live().count() == 2


def test_taking_back_within_the_hour_returns_the_allowance(alice):
    bob = _giver()
    topics = _with_topics(6, user=alice)
    kid = klout_id_of(user_id=alice.pk)
    given = [
        give_plus_k(giver_id=bob.pk, klout_id=kid, topic_id=t.pk, now=NOON) for t in topics[:5]
    ]

    take_back_plus_k(giver_id=bob.pk, plus_k_id=given[0].pk, now=NOON + dt.timedelta(minutes=59))

    assert remaining_today(user_id=bob.pk, now=NOON) == 1
    give_plus_k(giver_id=bob.pk, klout_id=kid, topic_id=topics[5].pk, now=NOON)
    # and the topic taken back may be +K'd again
    with pytest.raises(PlusKError, match="5 \\+K"):
        give_plus_k(giver_id=bob.pk, klout_id=kid, topic_id=topics[0].pk, now=NOON)


def test_taking_back_after_the_hour_or_someone_elses_is_refused(alice, charlie):
    bob = _giver()
    (topic,) = _with_topics(1, user=alice)
    plus_k = give_plus_k(
        giver_id=bob.pk, klout_id=klout_id_of(user_id=alice.pk), topic_id=topic.pk, now=NOON
    )

    with pytest.raises(PlusKError, match="within the hour"):
        take_back_plus_k(giver_id=charlie.pk, plus_k_id=plus_k.pk, now=NOON)
    with pytest.raises(PlusKError, match="within the hour"):
        take_back_plus_k(giver_id=bob.pk, plus_k_id=plus_k.pk, now=NOON + dt.timedelta(hours=1))
    assert PlusK.objects.live().count() == 1


def test_plus_k_to_an_unclaimed_account(alice):
    bob = _giver()
    account = NetworkAccountFactory.create()
    (topic,) = _with_topics(1, account=account)

    plus_k = give_plus_k(
        giver_id=bob.pk, klout_id=klout_id_of(account_id=account.pk), topic_id=topic.pk, now=NOON
    )

    assert plus_k.receiver_account_id == account.pk
    assert plus_k.receiver_user_id is None


def test_plus_k_to_a_claimed_accounts_id_goes_to_its_person(alice):
    bob = _giver()
    account = NetworkAccountFactory.create()  # scored alone first: it has its own kloutId
    account_id = klout_id_of(account_id=account.pk)
    NetworkAccount.objects.filter(pk=account.pk).update(user=alice)  # then alice claims it
    (topic,) = _with_topics(1, user=alice)
    assert not KloutId.objects.filter(user=alice).exists()  # and has no kloutId of her own yet

    plus_k = give_plus_k(giver_id=bob.pk, klout_id=account_id, topic_id=topic.pk, now=NOON)

    assert plus_k.receiver_user_id == alice.pk
    assert plus_k.receiver_account_id is None
    assert str(plus_k.receiver_klout_id) == klout_id_of(user_id=alice.pk)
    with pytest.raises(PlusKError, match="7 days"):  # the person's own id names the same receiver
        give_plus_k(
            giver_id=bob.pk, klout_id=klout_id_of(user_id=alice.pk), topic_id=topic.pk, now=NOON
        )


def test_only_topics_of_the_current_published_run_can_get_plus_k(alice):
    bob = _giver()
    kid = klout_id_of(user_id=alice.pk)
    current = ScoringRunFactory.create(day=dt.date(2026, 11, 19))
    older = ScoringRunFactory.create(day=dt.date(2026, 11, 18))
    held = ScoringRunFactory.create(day=dt.date(2026, 11, 20), status="held")
    retired = ScoringRunFactory.create(
        day=dt.date(2026, 11, 20),
        version=AlgorithmVersionFactory.create(name="old", is_current=False),
    )
    shown, only_older, only_held, only_retired = TopicFactory.create_batch(4)
    TopicScoreFactory.create(run=current, user=alice, topic=shown)
    TopicScoreFactory.create(run=older, user=alice, topic=only_older)
    TopicScoreFactory.create(run=held, user=alice, topic=only_held)
    TopicScoreFactory.create(run=retired, user=alice, topic=only_retired)

    for topic in (only_older, only_held, only_retired):
        with pytest.raises(PlusKError, match="topics shown"):
            give_plus_k(giver_id=bob.pk, klout_id=kid, topic_id=topic.pk, now=NOON)
    give_plus_k(giver_id=bob.pk, klout_id=kid, topic_id=shown.pk, now=NOON)


def test_the_week_is_held_whichever_of_two_gives_is_dated_first(alice):
    bob = _giver()
    (topic,) = _with_topics(1, user=alice)
    kid = klout_id_of(user_id=alice.pk)
    give_plus_k(giver_id=bob.pk, klout_id=kid, topic_id=topic.pk, now=NOON + dt.timedelta(days=3))

    with pytest.raises(PlusKError, match="7 days"):
        give_plus_k(giver_id=bob.pk, klout_id=kid, topic_id=topic.pk, now=NOON)


def test_a_refused_give_leaves_the_callers_transaction_usable(alice):
    bob = _giver()
    (topic,) = _with_topics(1, user=alice)
    kid = klout_id_of(user_id=alice.pk)

    with transaction.atomic():
        give_plus_k(giver_id=bob.pk, klout_id=kid, topic_id=topic.pk, now=NOON)
        with pytest.raises(PlusKError, match="7 days"):
            give_plus_k(giver_id=bob.pk, klout_id=kid, topic_id=topic.pk, now=NOON)
        assert PlusK.objects.count() == 1  # the transaction still answers


def test_plus_k_on_one_topic_rolls_up_into_one_unread_notice(
    alice, django_capture_on_commit_callbacks
):
    givers = [_giver(f"giver{i}@example.com") for i in range(3)]
    python, rust = _with_topics(2, user=alice)
    kid = klout_id_of(user_id=alice.pk)

    with django_capture_on_commit_callbacks(execute=True):
        give_plus_k(giver_id=givers[0].pk, klout_id=kid, topic_id=python.pk, now=NOON)
    first = Notification.objects.get(user=alice)
    assert first.title == f"{givers[0].public_name} gave you +K in {python.display_name}"
    with django_capture_on_commit_callbacks(execute=True):
        for giver in givers[1:]:
            give_plus_k(giver_id=giver.pk, klout_id=kid, topic_id=python.pk, now=NOON)
        give_plus_k(giver_id=givers[0].pk, klout_id=kid, topic_id=rust.pk, now=NOON)

    notices = Notification.objects.filter(user=alice, kind="plus_k").order_by("pk")
    assert [(n.title, n.count) for n in notices] == [
        (f"3 people gave you +K in {python.display_name}", 3),
        (f"{givers[0].public_name} gave you +K in {rust.display_name}", 1),
    ]
    assert notices[0].pk == first.pk


def test_once_the_roll_up_is_read_the_next_plus_k_starts_a_new_notice(
    alice, django_capture_on_commit_callbacks
):
    bob, carol = _giver("bob@example.com"), _giver("carol@example.com")
    (topic,) = _with_topics(1, user=alice)
    kid = klout_id_of(user_id=alice.pk)
    with django_capture_on_commit_callbacks(execute=True):
        give_plus_k(giver_id=bob.pk, klout_id=kid, topic_id=topic.pk, now=NOON)
    Notification.objects.filter(user=alice).update(read_at=NOON)

    with django_capture_on_commit_callbacks(execute=True):
        give_plus_k(giver_id=carol.pk, klout_id=kid, topic_id=topic.pk, now=NOON)

    notices = Notification.objects.filter(user=alice).order_by("pk")
    assert [(n.count, n.read_at is None) for n in notices] == [(1, False), (1, True)]
    assert notices[1].title == f"{carol.public_name} gave you +K in {topic.display_name}"


def test_a_receiver_who_muted_plus_k_notices_gets_no_roll_up(
    alice, django_capture_on_commit_callbacks
):
    bob = _giver()
    (topic,) = _with_topics(1, user=alice)
    NotificationPreference.objects.create(user=alice, muted_kinds=["plus_k"])

    with django_capture_on_commit_callbacks(execute=True):
        give_plus_k(giver_id=bob.pk, klout_id=klout_id_of(user_id=alice.pk), topic_id=topic.pk)

    assert PlusK.objects.count() == 1
    assert not Notification.objects.exists()


def _concurrently(n: int, work) -> list[str]:
    barrier = threading.Barrier(n)
    outcomes: list[str] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            work(i)
            outcomes.append("given")
        except PlusKError as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_gives_by_one_person_store_exactly_five():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so there is no race to test")
    bob = _giver()
    receivers = [UserFactory.create() for _ in range(10)]
    cases = []
    for receiver in receivers:
        for topic in _with_topics(5, user=receiver):
            cases.append((klout_id_of(user_id=receiver.pk), topic.pk))

    outcomes = _concurrently(
        50, lambda i: give_plus_k(giver_id=bob.pk, klout_id=cases[i][0], topic_id=cases[i][1])
    )

    assert outcomes.count("given") == 5
    assert set(outcomes) == {"given", "you have given your 5 +K for today"}
    assert PlusK.objects.filter(giver=bob).count() == 5
    assert sorted(s or 0 for s in PlusK.objects.values_list("slot", flat=True)) == [1, 2, 3, 4, 5]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_repeats_of_one_plus_k_store_one():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so there is no race to test")
    bob = _giver()
    alice = UserFactory.create()
    (topic,) = _with_topics(1, user=alice)
    kid = klout_id_of(user_id=alice.pk)

    outcomes = _concurrently(
        10, lambda i: give_plus_k(giver_id=bob.pk, klout_id=kid, topic_id=topic.pk)
    )

    assert outcomes.count("given") == 1
    assert set(outcomes) == {"given", "you gave them +K on this topic in the last 7 days"}
    assert PlusK.objects.count() == 1


@pytest.mark.postgres
def test_postgres_itself_refuses_an_overlapping_week(alice):
    if connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint is PostgreSQL's")
    bob = _giver()
    (topic,) = _with_topics(1, user=alice)
    fields = {
        "giver": bob, "receiver_user": alice, "receiver_klout_id": 7, "topic": topic,
        "expires_at": NOON + dt.timedelta(days=7),
    }  # fmt: skip
    PlusK.objects.create(day=NOON.date(), slot=1, created_at=NOON, **fields)

    later = NOON + dt.timedelta(days=2)
    with pytest.raises(IntegrityError, match="plus_k_once_per_week"), transaction.atomic():
        PlusK.objects.create(
            day=later.date(),
            slot=1,
            created_at=later,
            **{**fields, "expires_at": later + dt.timedelta(days=7)},
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_gives_either_side_of_midnight_store_five_a_day():
    bob = _giver(joined=LATE - dt.timedelta(days=3))
    receivers = [UserFactory.create() for _ in range(5)]
    cases = []
    for receiver in receivers:
        for topic in _with_topics(4, user=receiver):
            cases.append((klout_id_of(user_id=receiver.pk), topic.pk))
    before, after = LATE + dt.timedelta(seconds=29), LATE + dt.timedelta(seconds=31)

    outcomes = _concurrently(
        20,
        lambda i: give_plus_k(
            giver_id=bob.pk,
            klout_id=cases[i][0],
            topic_id=cases[i][1],
            now=before if i % 2 else after,
        ),
    )

    assert outcomes.count("given") == 10
    per_day = {
        d: PlusK.objects.filter(giver=bob, day=d).count() for d in (before.date(), after.date())
    }
    assert per_day == {before.date(): 5, after.date(): 5}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_gives_to_one_person_roll_up_into_one_notice_that_counts_each():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so there is no race to test")
    givers = [_giver(f"giver{i}@example.com", joined=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
              for i in range(12)]  # fmt: skip
    alice = UserFactory.create()
    (topic,) = _with_topics(1, user=alice)
    kid = klout_id_of(user_id=alice.pk)

    # Outside a transaction each give's notice follows its insert at once, so the twelve
    # notices race for the one unread roll-up as the gives do.
    outcomes = _concurrently(
        12, lambda i: give_plus_k(giver_id=givers[i].pk, klout_id=kid, topic_id=topic.pk)
    )

    assert outcomes == ["given"] * 12
    (notice,) = Notification.objects.filter(user=alice, kind="plus_k")
    assert notice.count == 12
    assert notice.title == f"12 people gave you +K in {topic.display_name}"
