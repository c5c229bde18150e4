"""kloutIds: one decimal-string id per scored subject, unique across kinds, stable, never reused."""

from __future__ import annotations

import datetime as dt
import importlib
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from networks.models import NetworkAccount
from scoring import services
from scoring.kloutids import (
    KloutId,
    assign_klout_ids,
    klout_id_of,
    klout_ids_of,
    parse_klout_id,
    resolve_klout_id,
    subject_of,
)
from scoring.models import DailyScore
from tests.factories.accounts import UserFactory
from tests.factories.networks import NetworkAccountFactory
from tests.factories.scoring import DAY, DailyScoreFactory, accounts, noon, react

pytestmark = pytest.mark.django_db


def _scored_day(day: dt.date = DAY, *, owner: object = None) -> list[NetworkAccount]:
    """Six accounts reacting to each other on `day`; the first one claimed by `owner`."""
    people = accounts(f"k{day:%m%d}-", 6)
    if owner is not None:
        NetworkAccount.objects.filter(pk=people[0].pk).update(user=owner)
    react([(people[i], people[(i + 1) % 6]) for i in range(6)], at=noon(day))
    return people


def test_publishing_a_day_gives_every_subject_a_distinct_decimal_klout_id(alice):
    # given a day with six accounts, one of them claimed by alice
    _scored_day(owner=alice)

    # when the day is computed and published
    run = services.compute_day(day=DAY)

    # then every subject of the run (the accounts and alice) has its own decimal-string id
    subjects = DailyScore.objects.filter(run=run)
    users = set(subjects.filter(user__isnull=False).values_list("user_id", flat=True))
    accounts_ = set(subjects.filter(account__isnull=False).values_list("account_id", flat=True))
    assert users == {alice.pk}
    rows = list(KloutId.objects.all())
    assert {r.user_id for r in rows if r.user_id} == users
    assert {r.account_id for r in rows if r.account_id} == accounts_
    values = [r.value for r in rows]
    assert all(v.isdigit() for v in values)
    assert len(set(values)) == len(values) == len(users) + len(accounts_)


def test_klout_ids_are_stable_across_published_days(alice):
    _scored_day(owner=alice)
    services.compute_day(day=DAY)
    before = dict(KloutId.objects.values_list("pk", "account_id"))
    alice_id = klout_id_of(user_id=alice.pk)

    # when the next day is published (same people, plus new ones)
    _scored_day(DAY + dt.timedelta(days=1))
    run = services.compute_day(day=DAY + dt.timedelta(days=1))

    # then the old ids still name the same subjects; the new accounts got new ids
    after = dict(KloutId.objects.values_list("pk", "account_id"))
    assert {k: after[k] for k in before} == before
    assert klout_id_of(user_id=alice.pk) == alice_id
    assert len(after) > len(before)
    assert assign_klout_ids(run_id=run.pk) == 0  # idempotent


def test_a_claimed_accounts_klout_id_resolves_to_its_person_until_unlinked(alice):
    # given an account scored alone, with its own kloutId
    account = NetworkAccountFactory.create()
    DailyScoreFactory.create(account=account)
    assign_klout_ids(run_id=DailyScore.objects.get().run_id)
    own = KloutId.objects.get(account=account).value
    assert resolve_klout_id(own) == subject_of(account_id=account.pk)
    assert resolve_klout_id(own).account_id == account.pk  # type: ignore[union-attr]

    # when alice claims it
    NetworkAccount.objects.filter(pk=account.pk).update(user=alice)

    # then its id names alice, whose canonical id is her own
    subject = resolve_klout_id(own)
    assert subject is not None
    assert subject.is_person
    assert subject.user_id == alice.pk
    assert subject.klout_id == klout_id_of(user_id=alice.pk) != own
    assert klout_id_of(account_id=account.pk) == subject.klout_id

    # and when she unlinks it, the id names the account again
    NetworkAccount.objects.filter(pk=account.pk).update(user=None)
    again = resolve_klout_id(own)
    assert again is not None
    assert (again.account_id, again.user_id, again.klout_id) == (account.pk, None, own)


def test_klout_ids_are_never_reused_after_a_subject_is_deleted():
    gone = UserFactory.create()
    gone_id = int(klout_id_of(user_id=gone.pk))
    gone.delete()
    assert resolve_klout_id(str(gone_id)) is None

    newcomer = UserFactory.create()
    account = NetworkAccountFactory.create()

    assert int(klout_id_of(user_id=newcomer.pk)) > gone_id
    assert int(klout_id_of(account_id=account.pk)) > gone_id


def test_people_and_accounts_never_share_an_id():
    users = UserFactory.create_batch(3)
    accs = NetworkAccountFactory.create_batch(3)
    ids = [klout_id_of(user_id=u.pk) for u in users] + [klout_id_of(account_id=a.pk) for a in accs]
    assert len(set(ids)) == 6


@pytest.mark.parametrize("text", ["", "0", "007", "alice", "12a", "-5", "1.5", "١٢٣", "9" * 20])
def test_malformed_klout_ids_resolve_to_nothing(text):
    assert parse_klout_id(text) is None
    assert resolve_klout_id(text) is None


@given(st.integers(min_value=1, max_value=2**63 - 1))
def test_every_id_in_range_round_trips_through_its_decimal_string(number):
    assert parse_klout_id(str(number)) == number


@given(st.text(alphabet=st.characters(blacklist_categories=["Nd"]), min_size=1))
def test_text_with_no_digits_is_never_a_klout_id(text):
    assert parse_klout_id(text) is None


def test_unknown_klout_id_resolves_to_nothing():
    assert resolve_klout_id("987654321") is None


def test_bulk_lookup_maps_claimed_accounts_to_their_person_in_constant_queries(alice, bob):
    claimed = NetworkAccountFactory.create(user=alice)
    alone = NetworkAccountFactory.create_batch(3)
    more = NetworkAccountFactory.create_batch(20)
    # newcomers get their ids in one go, whatever their number
    with CaptureQueriesContext(connection) as first:
        klout_ids_of(user_ids=[bob.pk, alice.pk], account_ids=[a.pk for a in alone + more])
    assert KloutId.objects.count() == 2 + 23

    with CaptureQueriesContext(connection) as few:
        klout_ids_of(user_ids=[bob.pk], account_ids=[a.pk for a in alone])
    with CaptureQueriesContext(connection) as many:
        users, by_account = klout_ids_of(
            user_ids=[bob.pk], account_ids=[claimed.pk, *(a.pk for a in alone + more)]
        )

    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(first.captured_queries) <= len(few.captured_queries) + 4
    assert by_account[claimed.pk] == klout_id_of(user_id=alice.pk)
    assert users[bob.pk] == klout_id_of(user_id=bob.pk)
    assert {by_account[a.pk] for a in alone + more} == {
        klout_id_of(account_id=a.pk) for a in alone + more
    }


def test_migration_assigns_ids_to_every_subject_already_scored(alice):
    account = NetworkAccountFactory.create()
    DailyScoreFactory.create(account=account)
    DailyScoreFactory.create(account=None, user=alice)
    DailyScoreFactory.create(account=None, user=alice, day=DAY + dt.timedelta(days=1))
    migration = importlib.import_module("scoring.migrations.0003_kloutids")

    class Editor:  # the part of a schema editor the migration uses (SQLite's refuses atomic)
        def execute(self, sql: str, params: object = None) -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql)

    migration.assign_existing(None, Editor())

    assert set(KloutId.objects.values_list("user_id", "account_id")) == {
        (alice.pk, None),
        (None, account.pk),
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_lookups_agree_on_one_id():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so there is no race to test")
    person = UserFactory.create()
    barrier = threading.Barrier(8)
    seen: list[str] = []

    def look() -> None:
        barrier.wait()
        try:
            seen.append(klout_id_of(user_id=person.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=look) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(seen) == 8
    assert len(set(seen)) == 1
    assert KloutId.objects.filter(user=person).count() == 1
