"""Publishing swaps a freshly built read model in; what it shows and keeps out stays the same.

On PostgreSQL `rebuild_latest` builds LatestScore into a new table and renames it into place. The
swapped-in table must carry the same indexes and constraints under the same names (migrations
and queries rely on them), keep the subjects a run did not score, and never show anyone hidden
or opted out, even when that happened between computing a day and publishing it. Published
history is untouched by a later publish, and a cached API answer never outlives a publish.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection, transaction

from accounts.services import opt_out_person
from networks.models import Interaction, NetworkAccount
from scoring import read_model
from scoring.models import DailyScore, LatestScore, RunStatus, ScoringRun
from scoring.services import (
    compute_day,
    latest_api_json,
    publish_run,
    remove_scores_for_account,
)
from tests.factories.scoring import DAY, accounts, noon, react

pytestmark = pytest.mark.django_db
YESTERDAY = DAY - dt.timedelta(days=1)
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the swap is PostgreSQL's route"
)


@pytest.fixture
def ring() -> list[NetworkAccount]:
    """Eight people reacting to each other every day of the last week."""
    people = accounts("p", 8)
    edges = list(zip(people, people[1:] + people[:1], strict=True))
    for back in range(0, 7):
        react(edges, at=noon(DAY - dt.timedelta(days=back)))
    return people


def _catalog() -> dict[str, Any]:
    table = LatestScore._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass",
            [table],
        )
        indexes = dict(cursor.fetchall())
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass",
            [table],
        )
        constraints = dict(cursor.fetchall())
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        (sequence,) = cursor.fetchone()
        cursor.execute("SELECT relname FROM pg_class WHERE relname LIKE %s", [f"{table}%next%"])
        leftovers = [row[0] for row in cursor.fetchall()]
    return {
        "indexes": indexes,
        "constraints": constraints,
        "sequence": sequence,
        "leftovers": leftovers,
    }


@postgres_only
def test_swapped_in_table_keeps_every_index_constraint_and_name(ring):
    before = _catalog()
    assert "latest_score_idx" in before["indexes"]
    assert "latest_has_one_subject" in before["constraints"]

    compute_day(day=YESTERDAY)
    compute_day(day=DAY)

    after = _catalog()
    assert after == before
    assert LatestScore.objects.filter(day=DAY).count() == len(ring)
    # The swapped-in table takes new rows through the ORM (its identity column works).
    row = LatestScore.objects.get(account=ring[0])
    row.pk = None
    row.account = None
    row.user_id = None
    with pytest.raises(Exception, match="latest_has_one_subject"):
        row.save()


def test_subject_the_new_run_did_not_score_keeps_its_row(ring):
    loner = accounts("loner", 2)
    react([(loner[0], loner[1])], at=noon(YESTERDAY))
    compute_day(day=YESTERDAY)
    assert LatestScore.objects.get(account=loner[1]).day == YESTERDAY

    # Yesterday's reaction is still inside today's window: take the pair out of the store, so
    # today's run does not score them at all.
    Interaction.objects.filter(actor=loner[0]).delete()
    compute_day(day=DAY)

    assert not DailyScore.objects.filter(day=DAY, account=loner[1]).exists()
    rows = dict(LatestScore.objects.values_list("account_id", "day"))
    assert rows[ring[0].pk] == DAY
    assert rows[loner[1].pk] == YESTERDAY


def test_publishing_a_later_day_leaves_published_history_untouched(ring):
    compute_day(day=YESTERDAY)
    history = list(
        DailyScore.objects.filter(day=YESTERDAY).order_by("pk").values_list("pk", "score", "raw")
    )

    compute_day(day=DAY)

    assert history
    assert (
        list(
            DailyScore.objects.filter(day=YESTERDAY)
            .order_by("pk")
            .values_list("pk", "score", "raw")
        )
        == history
    )
    assert set(LatestScore.objects.values_list("day", flat=True)) == {DAY}


def _held_today(settings: Any) -> Any:
    compute_day(day=YESTERDAY)
    settings.KLOUT_ANOMALY_MAX_MOVED_FRACTION = -1.0  # any comparison at all holds the day
    run = compute_day(day=DAY)
    assert run.status == RunStatus.HELD
    return run


def test_held_run_stays_held_and_out_of_the_read_model(ring, settings):
    run = _held_today(settings)

    again = compute_day(day=DAY)

    assert again.pk == run.pk
    assert again.status == RunStatus.HELD
    assert set(LatestScore.objects.values_list("day", flat=True)) == {YESTERDAY}


def test_opt_out_between_compute_and_publish_is_respected(ring, settings, alice):
    NetworkAccount.objects.filter(pk=ring[0].pk).update(user=alice)
    run = _held_today(settings)
    assert DailyScore.objects.filter(run=run, user=alice).exists()

    opt_out_person(user_id=alice.pk)
    publish_run(run_id=run.pk)

    assert not LatestScore.objects.filter(user=alice).exists()
    assert not LatestScore.objects.filter(account=ring[0]).exists()
    assert LatestScore.objects.filter(account=ring[1], day=DAY).exists()


def test_account_hidden_without_its_removal_is_still_never_published(ring, settings):
    run = _held_today(settings)
    # Flagged by a path that did not (yet) remove its scores: publishing must still leave it out.
    NetworkAccount.objects.filter(pk=ring[2].pk).update(protected=True)

    publish_run(run_id=run.pk)

    assert DailyScore.objects.filter(run=run, account=ring[2]).exists()
    assert not LatestScore.objects.filter(account=ring[2]).exists()
    assert LatestScore.objects.filter(account=ring[3], day=DAY).exists()


def test_cached_api_answer_is_not_served_after_the_next_publish(
    ring, django_capture_on_commit_callbacks
):
    cache.clear()
    with django_capture_on_commit_callbacks(execute=True):
        compute_day(day=YESTERDAY)
    first = latest_api_json(account_id=ring[0].pk)
    assert first is not None
    assert first["day"] == YESTERDAY.isoformat()
    assert latest_api_json(account_id=ring[0].pk) == first  # now served from the cache

    with django_capture_on_commit_callbacks(execute=True):
        compute_day(day=DAY)

    second = latest_api_json(account_id=ring[0].pk)
    assert second is not None
    assert second["day"] == DAY.isoformat()
    today, before = (
        DailyScore.objects.get(account=ring[0], day=day).score for day in (DAY, YESTERDAY)
    )
    assert second["change_1d"] == read_model.change_of(today, before)


def test_cached_api_answer_goes_with_an_opt_out(ring, alice, django_capture_on_commit_callbacks):
    NetworkAccount.objects.filter(pk=ring[0].pk).update(user=alice)
    cache.clear()
    with django_capture_on_commit_callbacks(execute=True):
        compute_day(day=DAY)
    assert latest_api_json(user_id=alice.pk) is not None
    assert latest_api_json(account_id=ring[0].pk) is not None

    with django_capture_on_commit_callbacks(execute=True):
        opt_out_person(user_id=alice.pk)

    assert latest_api_json(user_id=alice.pk) is None
    assert latest_api_json(account_id=ring[0].pk) is None


def test_lost_generation_never_serves_an_answer_cached_before(ring):
    cache.clear()
    compute_day(day=YESTERDAY)
    assert latest_api_json(account_id=ring[0].pk) is not None
    stale_key = read_model.latest_cache_key(account_id=ring[0].pk)

    cache.delete(read_model.GENERATION_KEY)  # evicted

    assert read_model.latest_cache_key(account_id=ring[0].pk) != stale_key


def _in_thread(work: Any) -> threading.Thread:
    def run() -> None:
        try:
            work()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_hiding_in_flight_when_publish_starts_is_waited_for(ring, settings):
    """A removal that has begun (its transaction holds the read model) finishes first; the
    publish then builds from what it left, so the hidden account is not published."""
    run = _held_today(settings)
    removing, release = threading.Event(), threading.Event()

    def hide() -> None:
        with transaction.atomic():
            NetworkAccount.objects.filter(pk=ring[4].pk).update(protected=True)
            remove_scores_for_account(account_id=ring[4].pk)
            removing.set()
            release.wait(10)

    thread = _in_thread(hide)
    assert removing.wait(10)
    publisher = _in_thread(lambda: publish_run(run_id=run.pk))
    time.sleep(0.5)  # the publish is now waiting for the removal's lock
    assert ScoringRun.objects.get(pk=run.pk).status == RunStatus.HELD
    release.set()
    thread.join(10)
    publisher.join(30)

    assert ScoringRun.objects.get(pk=run.pk).status == RunStatus.PUBLISHED
    assert not LatestScore.objects.filter(account=ring[4]).exists()
    assert not DailyScore.objects.filter(account=ring[4]).exists()
    assert LatestScore.objects.filter(account=ring[5], day=DAY).exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_opt_out_during_the_swap_deletes_from_the_new_table(ring, settings, alice, monkeypatch):
    """An opt-out that starts while the new table is being built waits for the publish, then
    removes the person from the table that was swapped in."""
    NetworkAccount.objects.filter(pk=ring[6].pk).update(user=alice)
    run = _held_today(settings)
    building, go_on = threading.Event(), threading.Event()
    copy = read_model._copy_indexes_and_constraints

    def slow_copy(*args: Any) -> Any:
        building.set()
        go_on.wait(10)
        return copy(*args)

    monkeypatch.setattr(read_model, "_copy_indexes_and_constraints", slow_copy)
    publisher = _in_thread(lambda: publish_run(run_id=run.pk))
    assert building.wait(10)
    opting_out = _in_thread(lambda: opt_out_person(user_id=alice.pk))
    time.sleep(0.5)  # the opt-out is now waiting for the publish
    go_on.set()
    publisher.join(30)
    opting_out.join(30)

    assert ScoringRun.objects.get(pk=run.pk).status == RunStatus.PUBLISHED
    assert LatestScore.objects.filter(day=DAY).exists()
    assert not LatestScore.objects.filter(user=alice).exists()
    assert not LatestScore.objects.filter(account=ring[6]).exists()
    assert not DailyScore.objects.filter(user=alice).exists()
