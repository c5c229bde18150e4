"""Campaigns that target topics read the topic read model (scoring.topics)."""

from __future__ import annotations

import datetime as dt

import pytest

from perks import services
from perks.audience import preview, rebuild_audience
from perks.eligibility import Rules, TopicRule
from perks.services import ClaimRefused
from perks.topics import canonical_name, scores_for
from scoring.models import ScoringRun
from tests.factories.perks import CampaignFactory, scored_person
from tests.factories.topics import TopicFactory, TopicScoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def travel_people() -> dict[str, object]:
    travel = TopicFactory.create(display_name="Travel", slug="travel")
    keen = scored_person(50)
    casual = scored_person(50)
    run = ScoringRun.objects.get()
    TopicScoreFactory.create(run=run, user=keen, topic=travel, score=44.6)
    TopicScoreFactory.create(run=run, user=casual, topic=travel, score=31.2)
    rebuild_audience()
    return {"keen": keen, "casual": casual}


def test_a_person_s_topic_scores_come_from_the_current_published_run(
    travel_people: dict[str, object],
) -> None:
    keen = travel_people["keen"]

    assert scores_for(keen.pk) == {"Travel": 44.6}  # type: ignore[attr-defined]


def test_a_topic_campaign_tells_people_what_they_lack_and_admits_the_others(
    travel_people: dict[str, object],
) -> None:
    campaign = CampaignFactory.create(
        kind="invitation", topics=[{"topic": "Travel", "min_score": 40}]
    )
    campaign.invitation_url = "https://example.com/early"
    campaign.save()

    with pytest.raises(ClaimRefused, match=r"you need 40 in Travel \(you have 31\)"):
        services.claim_perk(
            campaign_id=campaign.pk,
            user_id=travel_people["casual"].pk,  # type: ignore[attr-defined]
            idempotency_key="c",
            disclosure_accepted=True,
        )
    claim = services.claim_perk(
        campaign_id=campaign.pk,
        user_id=travel_people["keen"].pk,  # type: ignore[attr-defined]
        idempotency_key="k",
        disclosure_accepted=True,
    )
    assert claim.topic == "Travel"


def test_the_preview_counts_only_people_with_the_topic_score(
    travel_people: dict[str, object],
) -> None:
    today = dt.date(2026, 12, 3)

    assert preview(Rules(), networks=(), today=today).total == 2
    assert preview(Rules(topics=(TopicRule("Travel", 40),)), networks=(), today=today).total == 1
    assert preview(Rules(topics=(TopicRule("Travel", 45),)), networks=(), today=today).total == 1
    assert preview(Rules(topics=(TopicRule("Travel", 46),)), networks=(), today=today).total == 0


def test_topic_names_are_matched_to_the_ontology(travel_people: dict[str, object]) -> None:
    assert canonical_name(" travel ") == "Travel"
    assert canonical_name("Knitting") is None
