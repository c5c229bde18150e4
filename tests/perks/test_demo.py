"""The demo brand `make run` seeds: an approved brand with an active campaign, made once."""

from __future__ import annotations

import pytest

from perks.demo import DEMO_BRAND_EMAIL, DEMO_BRAND_SLUG, seed_demo_brand
from perks.models import AuditEntry, Brand, Campaign, CampaignStatus, PerkCode
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db


def test_the_demo_brand_has_an_active_campaign_and_a_second_run_changes_nothing(
    django_capture_on_commit_callbacks: object,
) -> None:
    owner = UserFactory.create(email=DEMO_BRAND_EMAIL)
    UserFactory.create(is_staff=True)

    brand = seed_demo_brand()
    counts = (Campaign.objects.count(), PerkCode.objects.count(), AuditEntry.objects.count())
    again = seed_demo_brand()

    assert again.pk == brand.pk
    assert brand.slug == DEMO_BRAND_SLUG
    assert brand.is_approved
    assert brand.memberships.get().user == owner
    campaign = Campaign.objects.get(brand=brand)
    assert campaign.status == CampaignStatus.ACTIVE
    assert campaign.stock_left == 100
    assert (
        Campaign.objects.count(),
        PerkCode.objects.count(),
        AuditEntry.objects.count(),
    ) == counts
    assert Brand.objects.count() == 1
