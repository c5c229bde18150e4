"""Brand personas: an owner, a manager and an analyst of Acme; a member of another brand."""

from __future__ import annotations

import pytest
from django.test import Client

from perks.models import Brand, Campaign, Role
from tests.factories.accounts import UserFactory
from tests.factories.perks import BrandFactory, CampaignFactory, MembershipFactory, add_codes


def _client_for(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


@pytest.fixture
def acme(db) -> Brand:
    return BrandFactory.create(name="Acme", slug="acme")


@pytest.fixture
def acme_campaign(acme: Brand) -> Campaign:
    campaign = CampaignFactory.create(brand=acme, title="Acme sneakers", stock_total=5)
    add_codes(campaign, 5)
    return campaign


@pytest.fixture
def clients(acme: Brand) -> dict[str, Client]:
    """A signed-in client per persona: owner, manager, analyst, other brand, plain person."""
    people: dict[str, Client] = {}
    for role in (Role.OWNER, Role.MANAGER, Role.ANALYST):
        people[role] = _client_for(MembershipFactory.create(brand=acme, role=role).user)
    other = MembershipFactory.create(brand=BrandFactory.create(slug="globex"), role=Role.OWNER)
    people["other_brand"] = _client_for(other.user)
    people["person"] = _client_for(UserFactory.create())
    return people
