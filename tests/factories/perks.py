"""Factories for brands, campaigns and scored people who claim perks."""

from __future__ import annotations

import datetime as dt
import itertools

import factory
from django.utils import timezone

from accounts.models import User
from perks.models import (
    Brand,
    Campaign,
    CampaignKind,
    CampaignStatus,
    CampaignTier,
    Membership,
    PerkCode,
    Role,
)
from perks.stock import set_remaining
from scoring.models import LatestScore
from tests.factories.accounts import UserFactory
from tests.factories.scoring import DailyScoreFactory, LatestScoreFactory, ScoringRunFactory

_days = itertools.count()


class BrandFactory(factory.django.DjangoModelFactory[Brand]):
    class Meta:
        model = Brand

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")
    approved_at = factory.LazyFunction(timezone.now)


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    brand = factory.SubFactory(BrandFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.OWNER


class CampaignFactory(factory.django.DjangoModelFactory[Campaign]):
    class Meta:
        model = Campaign
        skip_postgeneration_save = True

    brand = factory.SubFactory(BrandFactory)
    title = factory.Sequence(lambda n: f"Perk {n}")
    description = "A free thing for influential people."
    disclosure = "Free from the brand. Posting about it is optional; if you do, say it was free."
    kind = CampaignKind.CODE
    status = CampaignStatus.ACTIVE
    stock_total = 10
    activated_at = factory.LazyFunction(timezone.now)
    announced_at = factory.LazyFunction(timezone.now)  # announcements tested on their own

    @factory.post_generation
    def stock(obj: Campaign, create: bool, extracted: int | None, **kwargs: object) -> None:
        """The whole stock is left unless stock=N says how much."""
        if create:
            left = obj.stock_total if extracted is None else extracted
            set_remaining(campaign_id=obj.pk, left=left)


class CampaignTierFactory(factory.django.DjangoModelFactory[CampaignTier]):
    class Meta:
        model = CampaignTier

    campaign = factory.SubFactory(CampaignFactory)
    name = factory.Sequence(lambda n: f"Tier {n}")
    min_score = 20
    reward = "20% off"


def add_codes(campaign: Campaign, n: int, *, prefix: str = "CODE") -> list[PerkCode]:
    """n codes for a campaign, created in one query."""
    return PerkCode.objects.bulk_create(
        PerkCode(campaign=campaign, code=f"{prefix}-{campaign.pk}-{i}") for i in range(n)
    )


def scored_person(
    score: float = 50.0, *, user: User | None = None, country: str = "", **fields: object
) -> User:
    """A person with a published latest score (the read model perks reads)."""
    user = user or UserFactory.create(country=country, **fields)
    run = ScoringRunFactory.create(day=dt.date(2026, 11, 1))
    daily = DailyScoreFactory.create(run=run, user=user, account=None, score=score)
    LatestScoreFactory.create(daily=daily)
    return user


def scored_people(n: int, *, score: float = 50.0, country: str = "") -> list[User]:
    """n scored people, in a few queries (for concurrency tests)."""
    users = User.objects.bulk_create(
        User(email=f"claimer{next(_days)}-{i}@example.com", country=country) for i in range(n)
    )
    run = ScoringRunFactory.create(day=dt.date(2026, 11, 1))
    from scoring.models import DailyScore

    dailies = DailyScore.objects.bulk_create(
        DailyScore(run=run, version=run.version, day=run.day, user=u, score=score, raw=1.0)
        for u in users
    )
    LatestScore.objects.bulk_create(
        LatestScore(version=run.version, user=u, daily=d, day=d.day, score=score)
        for u, d in zip(users, dailies, strict=True)
    )
    return users
