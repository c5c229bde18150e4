"""What the API's shapes need from a scoring run: influence totals, 5-day deltas, styles."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from networks.models import NetworkAccount
from scoring.api.shapes import BUCKETS, STYLE_ORDER, kclass_id, legacy_bucket, style_name
from scoring.engine.styles import STYLES
from scoring.models import DailyScore
from scoring.services import compute_day
from tests.factories.scoring import DAY, accounts, noon, react

pytestmark = pytest.mark.django_db


@pytest.fixture
def star_and_fans() -> tuple[NetworkAccount, list[NetworkAccount]]:
    star = accounts("star", 1)[0]
    fans = accounts("fan", 12)
    for back in range(1, 4):
        react([(f, star) for f in fans], at=noon(DAY - dt.timedelta(days=back)))
    react([(fans[0], fans[1])], at=noon(DAY))
    return star, fans


def test_a_run_counts_every_influencee_while_keeping_the_top_five(star_and_fans) -> None:
    star, fans = star_and_fans
    run = compute_day(day=DAY)
    row = DailyScore.objects.get(run=run, account=star)
    assert len(row.influencees) == 5
    assert row.influencees_count == 12
    assert row.influencers_count == 0
    fan0 = DailyScore.objects.get(run=run, account=fans[0])
    assert fan0.influencers_count == 2  # the star and fan1
    assert fan0.influencees_count == 0


def test_kclass_ids_follow_the_spec_order() -> None:
    # The spec's order is the engine's order: ids 1-16 name the same styles in both.
    assert list(STYLE_ORDER) == STYLES
    assert [kclass_id(name) for name in STYLES] == list(range(1, 17))
    assert kclass_id("conversationalist") == 10
    assert style_name("") == "Observer"


@pytest.mark.parametrize(
    ("score", "bucket"),
    [(1.0, "1-9"), (9.99, "1-9"), (10.0, "10-19"), (48.87, "40-49"), (89.99, "80-89"),
     (90.0, "90-100"), (99.6, "90-100"), (100.0, "90-100")],
)  # fmt: skip
def test_legacy_buckets_are_the_originals(score: float, bucket: str) -> None:
    assert legacy_bucket(score) == bucket
    assert bucket in BUCKETS


@given(st.floats(min_value=1.0, max_value=100.0))
def test_every_score_falls_in_the_band_that_names_it(score: float) -> None:
    low, high = (int(part) for part in legacy_bucket(score).split("-"))
    assert low <= int(score) <= high
