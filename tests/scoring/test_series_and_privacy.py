"""Versions start new series; opted-out and protected accounts are never scored; persons combine."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from accounts.services import opt_out_person
from networks.models import NetworkAccount
from scoring.engine import registry
from scoring.models import AlgorithmVersion, DailyScore, LatestScore, RunStatus
from scoring.services import compute_day, make_version_current
from tests.factories.scoring import DAY, accounts, noon, react

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_version(monkeypatch) -> str:
    """A second engine version (shorter half-life) registered next to the latest one."""
    name = "klout-test.2"
    algo = dataclasses.replace(registry.VERSIONS[registry.LATEST], name=name, half_life_days=7.0)
    monkeypatch.setitem(registry.VERSIONS, name, algo)
    return name


@pytest.fixture
def fans_of_star() -> NetworkAccount:
    star = accounts("star", 1)[0]
    fans = accounts("fan", 6)
    for back in range(0, 5):
        react([(f, star) for f in fans], at=noon(DAY - dt.timedelta(days=back * 3)))
    return star


def test_new_version_starts_a_new_series_and_leaves_history_alone(fans_of_star, second_version):
    old_run = compute_day(day=DAY)
    history = list(DailyScore.objects.filter(run=old_run).order_by("pk").values_list("pk", "score"))

    new_run = compute_day(day=DAY, version_name=second_version)

    assert new_run.pk != old_run.pk
    assert new_run.version.name == second_version
    assert new_run.status == RunStatus.PUBLISHED
    assert new_run.version.calibration["version"] == second_version
    assert (
        list(DailyScore.objects.filter(run=old_run).order_by("pk").values_list("pk", "score"))
        == history
    )
    # pages keep showing the current version until staff switch
    assert LatestScore.objects.get(account=fans_of_star).version == old_run.version


def test_switching_version_moves_the_read_model_to_the_new_series(fans_of_star, second_version):
    compute_day(day=DAY - dt.timedelta(days=1))
    make_version_current(name=second_version)

    run = compute_day(day=DAY)

    assert run.version.name == second_version
    assert set(LatestScore.objects.values_list("version__name", flat=True)) == {second_version}
    assert AlgorithmVersion.objects.get(is_current=True).name == second_version


def test_protected_and_opted_out_accounts_are_never_scored(fans_of_star):
    shy = accounts("shy", 1, protected=True)[0]
    gone = accounts("gone", 1, opted_out=True)[0]
    react([(shy, fans_of_star), (fans_of_star, gone), (shy, gone)], at=noon(DAY))

    run = compute_day(day=DAY)

    scored = set(DailyScore.objects.filter(run=run).values_list("account_id", flat=True))
    assert fans_of_star.pk in scored
    assert shy.pk not in scored
    assert gone.pk not in scored


def test_accounts_of_an_opted_out_person_are_never_scored(fans_of_star, alice):
    alice.opted_out = True
    alice.save()
    NetworkAccount.objects.filter(pk=fans_of_star.pk).update(user=alice)

    run = compute_day(day=DAY)

    assert not DailyScore.objects.filter(run=run, account=fans_of_star).exists()
    assert not DailyScore.objects.filter(run=run, user=alice).exists()


def test_opting_out_removes_published_scores_and_read_model(fans_of_star, alice):
    NetworkAccount.objects.filter(pk=fans_of_star.pk).update(user=alice)
    compute_day(day=DAY)
    assert LatestScore.objects.filter(user=alice).exists()

    opt_out_person(user_id=alice.pk)

    assert not DailyScore.objects.filter(user=alice).exists()
    assert not DailyScore.objects.filter(account=fans_of_star).exists()
    assert not LatestScore.objects.filter(user=alice).exists()
    assert not LatestScore.objects.filter(account=fans_of_star).exists()


def test_user_with_two_linked_accounts_scores_at_least_each_account(alice):
    home, work = accounts("alice-home", 1) + accounts("alice-work", 1)
    NetworkAccount.objects.filter(pk__in=[home.pk, work.pk]).update(user=alice)
    friends = accounts("friend", 8)
    colleagues = accounts("colleague", 5)
    react([(f, home) for f in friends], at=noon(DAY))
    react([(c, work) for c in colleagues], at=noon(DAY - dt.timedelta(days=2)))

    run = compute_day(day=DAY)

    person = DailyScore.objects.get(run=run, user=alice).score
    each = DailyScore.objects.filter(run=run, account__in=[home, work]).values_list(
        "score", flat=True
    )
    assert len(each) == 2
    assert all(person >= s for s in each)
    assert LatestScore.objects.get(user=alice).handle == "alice-home0"


def _ring_and_genuine(*, ring_every: int, fans_every: int) -> tuple[float, float]:
    """Best puppet score and the genuine account's score after ten days of activity."""
    ring = accounts("puppet", 20)
    genuine = accounts("genuine", 1)[0]
    fans = accounts("reader", 10)
    others = accounts("other", 40)
    for back in range(0, 10):
        at = noon(DAY - dt.timedelta(days=back))
        if back % ring_every == 0:
            react([(a, b) for a in ring for b in ring if a != b], at=at)
        if back % fans_every == 0:
            react([(f, genuine) for f in fans], at=at)
        # each reader also reacts to a few ordinary people: independent, not a clique
        react([(f, others[(i + back) % 40]) for i, f in enumerate(fans)], at=at)

    run = compute_day(day=DAY)

    scores = dict(DailyScore.objects.filter(run=run).values_list("account_id", "score"))
    return max(scores[p.pk] for p in ring), scores[genuine.pk]


def test_sock_puppet_ring_scores_below_a_genuine_account():
    best_puppet, genuine = _ring_and_genuine(ring_every=3, fans_every=3)

    assert genuine > best_puppet


def test_sock_puppet_ring_reacting_daily_still_scores_below_a_genuine_account():
    best_puppet, genuine = _ring_and_genuine(ring_every=1, fans_every=3)

    assert genuine > best_puppet


def test_opting_out_invalidates_every_cached_dashboard_fragment(
    fans_of_star, alice, django_capture_on_commit_callbacks
):
    from scoring.queries import privacy_epoch

    NetworkAccount.objects.filter(pk=fans_of_star.pk).update(user=alice)
    before = privacy_epoch()

    with django_capture_on_commit_callbacks(execute=True):
        opt_out_person(user_id=alice.pk)

    assert privacy_epoch() != before
