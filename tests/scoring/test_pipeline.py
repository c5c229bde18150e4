"""compute_day end to end on small factory data: compute -> guard -> publish -> read model."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache

from networks.models import NetworkAccount
from scoring.models import (
    AlgorithmVersion,
    DailyScore,
    Explanation,
    LatestScore,
    RunStatus,
    ScoringRun,
)
from scoring.services import compute_day, latest_api_json
from tests.factories.scoring import DAY, accounts, noon, react

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_graph() -> dict[str, NetworkAccount]:
    """A star, the "genuine" account, reacted to by ten fans over the last days, plus chatter."""
    star = accounts("star", 1)[0]
    fans = accounts("fan", 10)
    for back in range(1, 6):
        react([(f, star) for f in fans[: 2 * back]], at=noon(DAY - dt.timedelta(days=back)))
    react([(fans[0], fans[1]), (fans[1], fans[0])], at=noon(DAY))
    react([(fans[3], star)], at=noon(DAY))
    return {"star": star, "fan0": fans[0]}


def test_compute_day_publishes_scores_for_every_visible_account(small_graph):
    run = compute_day(day=DAY)

    assert run.status == RunStatus.PUBLISHED
    assert DailyScore.objects.filter(run=run, account__isnull=False).count() == 11
    star = DailyScore.objects.get(run=run, account=small_graph["star"])
    fan = DailyScore.objects.get(run=run, account=small_graph["fan0"])
    assert 1 <= fan.score < star.score <= 100
    assert star.influencees
    top = NetworkAccount.objects.get(pk=star.influencees[0]["account_id"])
    assert top.handle.startswith("fan")
    assert "handle" not in star.influencees[0]  # names are looked up when shown
    assert star.network_contributions == {"dev": pytest.approx(1.0)}


def test_publish_rebuilds_latest_score_and_serves_its_api_json(small_graph):
    cache.clear()
    run = compute_day(day=DAY)

    latest = LatestScore.objects.get(account=small_graph["star"])
    assert latest.day == DAY
    assert latest.daily.run_id == run.pk
    assert latest.handle == "star0"
    assert latest.network == "dev"
    api = latest_api_json(account_id=small_graph["star"].pk)
    assert api is not None
    assert (api["subject"], api["id"], api["handle"]) == ("account", latest.account_id, "star0")
    assert api["shown"] == round(latest.score)
    assert api["day"] == DAY.isoformat()


def test_compute_day_stores_calibration_once_and_never_recalibrates(small_graph):
    compute_day(day=DAY - dt.timedelta(days=1))
    version = AlgorithmVersion.objects.get(is_current=True)
    stored = dict(version.calibration)
    assert stored["k"] > 0

    react([(small_graph["fan0"], small_graph["star"])], at=noon(DAY))
    compute_day(day=DAY)

    version.refresh_from_db()
    assert version.calibration == stored


def test_compute_day_rerun_is_idempotent(small_graph):
    first = compute_day(day=DAY)
    rows = list(DailyScore.objects.order_by("pk").values_list("pk", "score"))

    again = compute_day(day=DAY)

    assert again.pk == first.pk
    assert again.status == first.status
    assert list(DailyScore.objects.order_by("pk").values_list("pk", "score")) == rows
    assert ScoringRun.objects.count() == 1


def test_next_day_explains_the_change_in_words(small_graph, settings):
    settings.KLOUT_ANOMALY_MAX_MOVED_FRACTION = 1.0
    compute_day(day=DAY - dt.timedelta(days=1))
    newcomers = accounts("new", 8)
    react([(n, small_graph["star"]) for n in newcomers], at=noon(DAY))

    run = compute_day(day=DAY)

    today = DailyScore.objects.get(run=run, account=small_graph["star"])
    texts = list(Explanation.objects.filter(score=today).values_list("text", flat=True))
    assert any("new people acted on you" in t for t in texts), texts
    change = LatestScore.objects.get(account=small_graph["star"]).change_1d
    assert change is not None
    assert change > 0
