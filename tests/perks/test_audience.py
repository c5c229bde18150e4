"""The audience read model and the targeting preview; a person's location in settings."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.services import opt_out_person, set_person_location
from perks.audience import preview, rebuild_audience
from perks.eligibility import Place, Rules, Tier
from perks.models import Audience
from tests.factories.networks import NetworkAccountFactory
from tests.factories.perks import scored_person
from tests.postgres import needs_postgres

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 12, 3)
TIERS = (Tier("Bronze", 20, "a"), Tier("Silver", 50, "b"), Tier("Gold", 81, "c"))


@pytest.fixture
def world() -> None:
    for score, country in [(25, "CA"), (49.5, "CA"), (55, "US"), (90, "CA"), (10, "CA"), (60, "")]:
        scored_person(score, country=country)
    rebuild_audience()


def test_the_preview_counts_eligible_people_by_tier_and_country(world: None) -> None:
    result = preview(Rules(tiers=TIERS), networks=(), today=TODAY)

    assert result.total == 5  # the one at 10 is below the lowest tier
    assert result.by_tier == {"Bronze": 1, "Silver": 3, "Gold": 1}  # 49.5 shows as 50
    assert result.by_country == [("Canada", 3), ("Not set", 1), ("United States of America", 1)]


def test_the_preview_applies_countries_and_minimum_score(world: None) -> None:
    result = preview(
        Rules(min_score=50, countries=(Place("CA", "Canada"),)), networks=(), today=TODAY
    )

    assert result.total == 2
    assert result.by_country == [("Canada", 2)]


def test_the_preview_filters_by_linked_network_and_account_age(world: None) -> None:
    linked = scored_person(70, country="CA")
    NetworkAccountFactory.create(user=linked, network="github")
    rebuild_audience()

    assert preview(Rules(), networks=["github"], today=TODAY).total == 1
    old = timezone.now() - dt.timedelta(days=400)
    type(linked).objects.filter(pk=linked.pk).update(date_joined=old)
    rebuild_audience()
    assert preview(Rules(min_account_age_days=365), networks=(), today=TODAY).total == 1


def test_a_location_change_and_an_opt_out_reach_the_read_model_at_once() -> None:
    alice = scored_person(40)
    rebuild_audience()

    set_person_location(user_id=alice.pk, country="CA", region="  Toronto ")

    row = Audience.objects.get(user=alice)
    assert (row.country, row.region) == ("CA", "toronto")
    opt_out_person(user_id=alice.pk)
    assert not Audience.objects.filter(user=alice).exists()


def test_a_person_sets_their_country_and_city_in_settings() -> None:
    alice = scored_person(40)
    client = Client()
    client.force_login(alice)

    bad = client.post(reverse("location_settings"), {"country": "", "region": "Paris"})
    assert "Choose a country for that region or city." in bad.content.decode()
    response = client.post(reverse("location_settings"), {"country": "FR", "region": "Paris"})

    assert response.status_code == 302
    alice.refresh_from_db()
    assert (str(alice.country), alice.region) == ("FR", "Paris")
    assert "Location saved." in client.get(reverse("location_settings")).content.decode()


def test_a_location_a_network_reports_is_suggested_but_not_set() -> None:
    from tests.factories.accounts import SocialAccountFactory

    alice = scored_person(40)
    SocialAccountFactory.create(user=alice, extra_data={"handle": "a", "location": "Toronto, ON"})
    client = Client()
    client.force_login(alice)

    page = client.get(reverse("location_settings")).content.decode()

    assert "Toronto, ON" in page
    alice.refresh_from_db()
    assert (str(alice.country), alice.region) == ("", "")


@pytest.mark.parametrize(
    "rules",
    [
        Rules(),
        Rules(tiers=TIERS),
        Rules(min_score=50, tiers=TIERS),
        Rules(countries=(Place("CA", "Canada"), Place("US", "USA")), tiers=TIERS[1:]),
    ],
)
def test_the_cells_answer_exactly_as_counting_rows_would(world: None, rules: Rules) -> None:
    from perks.audience import _preview

    cells = _preview(rules, networks=(), today=TODAY, path="cells")
    rows = _preview(rules, networks=(), today=TODAY, path="rows")

    assert cells == rows
    assert rows.total > 0


def test_the_cells_follow_a_person_who_moves_or_opts_out(world: None) -> None:
    from perks.audience import _preview

    alice = scored_person(70, country="US")
    rebuild_audience()
    set_person_location(user_id=alice.pk, country="CA")
    rules = Rules(tiers=TIERS)
    assert _preview(rules, networks=(), today=TODAY, path="cells") == _preview(
        rules, networks=(), today=TODAY, path="rows"
    )
    opt_out_person(user_id=alice.pk)
    after = _preview(rules, networks=(), today=TODAY, path="cells")
    assert after == _preview(rules, networks=(), today=TODAY, path="rows")
    assert after.total == 5


JOINED_DAYS_AGO = (0, 1, 29, 31, 200, 365, 366, 400, 800)


@pytest.fixture
def joined_world(world: None) -> None:
    """People who joined on days around month ends and around a year ago, some with networks."""
    now = timezone.now()
    for index, days in enumerate(JOINED_DAYS_AGO):
        person = scored_person(30 + 7 * index, country="CA" if index % 2 else "US")
        type(person).objects.filter(pk=person.pk).update(date_joined=now - dt.timedelta(days=days))
        if index % 3 == 0:
            NetworkAccountFactory.create(user=person, network="github")
        if index % 4 == 0:
            NetworkAccountFactory.create(user=person, network="mastodon")
    rebuild_audience()


@pytest.mark.parametrize("age", [0, 1, 30, 31, 90, 365, 366, 5000])
@pytest.mark.parametrize("networks", [(), ("github",), ("github", "mastodon")])
def test_the_join_cells_answer_exactly_as_counting_rows_would(
    joined_world: None, age: int, networks: tuple[str, ...]
) -> None:
    from perks.audience import _preview

    needs_postgres("the join cells are read by position in jsonb")
    today = timezone.localdate()
    for rules in (
        Rules(min_account_age_days=age, tiers=TIERS),
        Rules(min_account_age_days=age, min_score=40, countries=(Place("CA", "Canada"),)),
    ):
        joins = _preview(rules, networks=networks, today=today, path="joins")
        rows = _preview(rules, networks=networks, today=today, path="rows")
        assert joins == rows, (rules, networks)


def test_the_join_cells_follow_a_person_who_moves_or_opts_out(joined_world: None) -> None:
    from perks.audience import _preview

    needs_postgres("the join cells are read by position in jsonb")
    today = timezone.localdate()
    rules = Rules(min_account_age_days=30, tiers=TIERS)
    alice = scored_person(70, country="US")
    type(alice).objects.filter(pk=alice.pk).update(
        date_joined=timezone.now() - dt.timedelta(days=45)
    )
    rebuild_audience()
    before = _preview(rules, networks=(), today=today, path="joins")

    set_person_location(user_id=alice.pk, country="CA")
    moved = _preview(rules, networks=(), today=today, path="joins")
    assert moved == _preview(rules, networks=(), today=today, path="rows")
    opt_out_person(user_id=alice.pk)
    gone = _preview(rules, networks=(), today=today, path="joins")

    assert gone == _preview(rules, networks=(), today=today, path="rows")
    assert moved.total == before.total
    assert gone.total == before.total - 1
    assert dict(moved.by_country)["Canada"] == dict(before.by_country)["Canada"] + 1
