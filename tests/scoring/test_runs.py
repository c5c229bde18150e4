"""Runs survive failures cleanly and read in constant queries; tasks and a command drive them."""

from __future__ import annotations

import datetime as dt
import gzip

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from networks.models import Interaction, InteractionKind, Network, NetworkAccount
from scoring import services, signals, tasks
from scoring.collect import collect_window
from scoring.models import DailyScore, Explanation, LatestScore, RunStatus, ScoringRun
from tests.factories.accounts import UserFactory
from tests.factories.scoring import DAY, accounts, noon, react

pytestmark = pytest.mark.django_db


def _chatter(n: int) -> None:
    people = accounts(f"c{n}-", 30)
    react([(people[i % 30], people[(i * 7 + 1) % 30]) for i in range(n)], at=noon(DAY))


def test_collect_window_reads_in_a_constant_number_of_queries():
    _chatter(20)
    with CaptureQueriesContext(connection) as small:
        small_window = collect_window(day=DAY)
    _chatter(400)

    with CaptureQueriesContext(connection) as large:
        large_window = collect_window(day=DAY)

    assert len(small_window.interactions) == 20
    assert len(large_window.interactions) == 420
    # PostgreSQL streams interactions through COPY, which Django does not count: 3 or 4.
    assert len(large.captured_queries) == len(small.captured_queries) <= 4


def _measure_compute(day: dt.date) -> int:
    with CaptureQueriesContext(connection) as queries:
        services.compute_day(day=day)
    ScoringRun.objects.all().delete()
    return len(queries.captured_queries)


def test_compute_day_query_count_does_not_grow_with_interactions():
    services.compute_day(day=DAY - dt.timedelta(days=60))  # version and calibration exist
    ScoringRun.objects.all().delete()
    _chatter(20)
    small = _measure_compute(DAY)
    _chatter(600)

    large = _measure_compute(DAY)

    assert large == small


def test_failed_compute_leaves_no_partial_run_and_a_rerun_works(monkeypatch):
    _chatter(50)

    def broken(**kwargs: object) -> str:
        raise RuntimeError("worker lost")

    monkeypatch.setattr(services, "_anomaly", broken)
    with pytest.raises(RuntimeError):
        services.compute_day(day=DAY)
    assert not ScoringRun.objects.exists()
    assert not DailyScore.objects.exists()
    monkeypatch.undo()

    run = services.compute_day(day=DAY)

    assert run.status == RunStatus.PUBLISHED


def test_written_but_undecided_run_is_decided_on_rerun():
    _chatter(50)
    version = services.get_or_create_version()
    written = services._compute_run(day=DAY, version=version, progress=None)
    assert written.status == RunStatus.COMPUTING

    run = services.compute_day(day=DAY)

    assert run.pk == written.pk
    assert run.status == RunStatus.PUBLISHED


def test_publishing_sends_day_published_on_commit(django_capture_on_commit_callbacks):
    _chatter(50)
    heard: list[int] = []

    def receiver(sender: object, *, run_id: int, **kwargs: object) -> None:
        heard.append(run_id)

    signals.day_published.connect(receiver, dispatch_uid="test-day-published")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            run = services.compute_day(day=DAY)
    finally:
        signals.day_published.disconnect(dispatch_uid="test-day-published")

    assert heard == [run.pk]


def test_held_run_notifies_staff(django_capture_on_commit_callbacks):
    from accounts.models import Notification

    staff = UserFactory.create(is_staff=True)
    x_people = accounts("x", 2, network=Network.X)
    react([(x_people[0], x_people[1])], at=noon(DAY - dt.timedelta(days=1)))
    _chatter(20)

    with django_capture_on_commit_callbacks(execute=True):
        run = services.compute_day(day=DAY)

    assert run.status == RunStatus.HELD
    note = Notification.objects.get(user=staff)
    assert "held" in note.title


def test_compute_day_task_takes_an_iso_day_and_returns_the_run():
    _chatter(20)

    run_id = tasks.compute_day.delay(DAY.isoformat()).get()

    assert ScoringRun.objects.get(pk=run_id).day == DAY


def test_score_command_is_idempotent_over_a_range_of_days(capsys):
    _chatter(40)
    react(
        [(a, b) for a, b in zip(accounts("y", 5), accounts("z", 5), strict=True)],
        at=noon(DAY - dt.timedelta(days=1)),
    )

    call_command("score", date=DAY.isoformat(), days=2)
    first = list(ScoringRun.objects.order_by("pk").values_list("pk", "day", "status"))
    call_command("score", date=DAY.isoformat(), days=2)

    assert len(first) == 2
    assert list(ScoringRun.objects.order_by("pk").values_list("pk", "day", "status")) == first
    assert "Scored" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"date": "yesterday"}, "not a date"),
        ({"date": "2026-11-01", "version": "nope"}, "unknown version"),
        ({"date": "2026-11-01", "days": 0}, "at least 1"),
    ],
)
def test_score_command_rejects_bad_input_clearly(options, message):
    with pytest.raises(CommandError, match=message):
        call_command("score", **options)
    assert not ScoringRun.objects.exists()


def _load_collegemsg(settings, lines: int) -> dt.date:
    """The first `lines` CollegeMsg events as accounts and messages; returns the last day."""
    path = settings.SHARED_DATA_DIR / "collegemsg" / "CollegeMsg.txt.gz"
    rows = []
    with gzip.open(path, "rt") as handle:
        for number, line in enumerate(handle):
            if number >= lines:
                break
            src, dst, ts = line.split()
            rows.append((src, dst, int(ts)))
    ids = sorted({r[0] for r in rows} | {r[1] for r in rows}, key=int)
    made = NetworkAccount.objects.bulk_create(
        NetworkAccount(network=Network.COLLEGEMSG, external_id=i, handle=f"student{i}") for i in ids
    )
    by_id = {a.external_id: a for a in made}
    Interaction.objects.bulk_create(
        Interaction(
            network=Network.COLLEGEMSG,
            actor=by_id[src],
            receiver=by_id[dst],
            kind=InteractionKind.MESSAGE,
            occurred_at=dt.datetime.fromtimestamp(ts, tz=dt.UTC),
            source_key=f"{number}",
        )
        for number, (src, dst, ts) in enumerate(rows)
    )
    return dt.datetime.fromtimestamp(rows[-1][2], tz=dt.UTC).date()


def test_collegemsg_slice_scores_and_publishes_through_the_database(settings):
    settings.KLOUT_ANOMALY_MAX_MOVED_FRACTION = 1.0
    last = _load_collegemsg(settings, 3000)
    day = last - dt.timedelta(days=1)

    services.compute_day(day=day - dt.timedelta(days=1))
    run = services.compute_day(day=day)

    assert run.status == RunStatus.PUBLISHED
    assert run.stats["interactions"] > 2000
    scores = list(LatestScore.objects.filter(day=day).values_list("score", flat=True))
    assert len(scores) == run.stats["accounts"] > 200
    assert all(1 <= s <= 100 for s in scores)
    assert max(scores) > 40
    assert Explanation.objects.filter(score__run=run).exists()
