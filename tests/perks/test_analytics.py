"""What brands see: the funnel, claims over time and by tier, country and topic, and amplification
(posts mentioning the campaign after launch)."""

from __future__ import annotations

import datetime as dt

import pytest

from perks import analytics, services
from perks.models import CampaignView, Claim
from tests.factories.networks import InteractionFactory, PostFactory
from tests.factories.perks import CampaignFactory, CampaignTierFactory, add_codes, scored_person

pytestmark = pytest.mark.django_db
LAUNCH = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)


def test_amplification_counts_posts_with_the_hashtag_or_url_after_launch_and_their_reactions() -> (
    None
):
    campaign = CampaignFactory.create(
        hashtag="#AcmeTrail", link="https://acme.example/trail", activated_at=LAUNCH
    )
    tagged = PostFactory.create(text="Loving my shoes #acmetrail", posted_at=LAUNCH)
    linked = PostFactory.create(
        text="see acme.example/trail for more", posted_at=LAUNCH + dt.timedelta(days=1)
    )
    PostFactory.create(text="#AcmeTrail before launch", posted_at=LAUNCH - dt.timedelta(hours=1))
    PostFactory.create(text="unrelated", posted_at=LAUNCH + dt.timedelta(hours=1))
    for _ in range(3):
        InteractionFactory.create(post=tagged, receiver=tagged.account)
    InteractionFactory.create(post=linked, receiver=linked.account)

    result = analytics.amplification(campaign)

    assert result is not None
    assert (result.posts, result.reactions) == (2, 4)
    assert [(post.pk, n) for post, n in result.top] == [(tagged.pk, 3), (linked.pk, 1)]


def test_the_funnel_counts_views_claims_and_redemptions() -> None:
    campaign = CampaignFactory.create(stock_total=3)
    add_codes(campaign, 3)
    people = [scored_person() for _ in range(3)]
    for person in people:
        CampaignView.objects.create(campaign=campaign, user=person)
    claims = [
        services.claim_perk(
            campaign_id=campaign.pk,
            user_id=p.pk,
            idempotency_key=f"f{p.pk}",
            disclosure_accepted=True,
        )
        for p in people[:2]
    ]
    services.mark_redeemed(campaign_id=campaign.pk, actor_id=None, claim_ids=[claims[0].pk])

    funnel = analytics.funnel(campaign)

    assert (funnel.views, funnel.claims, funnel.redeemed) == (3, 2, 1)
    assert funnel.share(funnel.claims) == 67


def test_claims_are_counted_per_day_and_by_tier_country_and_topic() -> None:
    campaign = CampaignFactory.create(stock_total=10)
    gold = CampaignTierFactory.create(campaign=campaign, name="Gold", min_score=80, reward="free")
    bronze = CampaignTierFactory.create(campaign=campaign, name="Bronze", min_score=20, reward="-")
    made = [
        (LAUNCH, gold, "CA", "Travel"),
        (LAUNCH + dt.timedelta(hours=2), bronze, "CA", "Travel"),
        (LAUNCH + dt.timedelta(days=1), bronze, "US", "Hiking"),
        (LAUNCH + dt.timedelta(days=3), bronze, "", ""),
    ]
    for index, (when, tier, country, topic) in enumerate(made):
        Claim.objects.create(
            campaign=campaign,
            user=scored_person(),
            tier=tier,
            country=country,
            topic=topic,
            created_at=when,
            disclosure_accepted_at=when,
            idempotency_key=f"analytics-{index}",
        )
    Claim.objects.create(  # another campaign's claim counts nowhere here
        campaign=CampaignFactory.create(),
        user=scored_person(),
        country="CA",
        disclosure_accepted_at=LAUNCH,
        idempotency_key="elsewhere",
    )

    assert analytics.claims_by_day(campaign).rows == [
        ("2026-11-01", 2),
        ("2026-11-02", 1),
        ("2026-11-04", 1),
    ]
    assert analytics.claims_by_tier(campaign).rows == [("Bronze", 3), ("Gold", 1)]
    by_country = analytics.claims_by_country(campaign)
    assert sorted(by_country.rows) == [("CA", 2), ("US", 1), ("—", 1)]
    assert by_country.top == 2
    assert sorted(analytics.claims_by_topic(campaign).rows) == [
        ("Hiking", 1),
        ("Travel", 2),
        ("—", 1),
    ]
