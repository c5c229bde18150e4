"""The perks journey in a real browser: a brand creates a campaign, previews its audience and
activates it; a scored person claims it on a 390-px phone and gets a code; the brand sees the claim.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from perks.audience import rebuild_audience
from perks.models import Claim, Role
from tests.browser.signing import sign_in
from tests.factories.accounts import UserFactory
from tests.factories.perks import BrandFactory, MembershipFactory, scored_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


def test_brand_launches_a_campaign_and_a_person_claims_it_on_a_phone(
    page: Page, browser: Browser, live_server: Any, screenshot_dir: Path
) -> None:
    base = live_server.url
    owner = UserFactory.create(email="owner@acme.example")
    brand = BrandFactory.create(name="Acme", slug="acme")
    MembershipFactory.create(brand=brand, user=owner, role=Role.OWNER)
    alice = scored_person(
        64, user=UserFactory.create(email="alice@example.com", display_name="Alice")
    )
    scored_person(12)  # below the campaign's minimum: not in the preview
    rebuild_audience()

    # the brand creates a campaign and watches the audience preview follow the minimum score
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, base, "owner@acme.example")
    page.goto(f"{base}/brands/acme/campaigns/new/")
    expect(page.locator("#preview-total")).to_have_text("2")  # every scored person, so far
    page.fill("input[name=title]", "Free trail shoes")
    page.fill("textarea[name=description]", "Shoes for people who get others outside.")
    page.fill("textarea[name=disclosure]", "A gift from Acme; say so if you post about it.")
    page.select_option("select[name=kind]", "code")
    page.fill("input[name=stock_total]", "20")
    page.fill("textarea[name=tiers]", "Bronze | 20 | 20% off\nGold | 60 | free shoes")
    expect(page.locator("#preview-total")).to_have_text("1")  # the lowest tier starts at 20
    page.fill("input[name=min_score]", "70")
    expect(page.locator("#preview-total")).to_have_text("0")
    page.fill("input[name=min_score]", "5")
    expect(page.locator("#preview-total")).to_have_text("1")
    expect(page.locator("#preview-tiers")).to_contain_text("Gold")
    page.screenshot(path=screenshot_dir / "perks-1-brand-preview.png", full_page=True)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/brands/acme/campaigns/\d+/$"))

    # codes, then activate
    page.fill("input[name=generate]", "20")
    page.get_by_role("button", name="Add codes").click()
    expect(page.get_by_text("20 codes added.")).to_be_visible()
    page.get_by_role("button", name="Activate").click()
    expect(page.locator("#campaign-status")).to_have_text("Active")

    # the person claims it at phone width
    phone = browser.new_context(viewport=PHONE)  # type: ignore[arg-type]
    person = phone.new_page()
    sign_in(person, base, "alice@example.com")
    person.goto(f"{base}/perks/")
    person.locator("#qualifying a", has_text="Free trail shoes").click()
    expect(person.locator("#disclosure")).to_contain_text("A gift from Acme")
    person.get_by_label("I read the disclosure and agree to it").check()
    person.get_by_role("button", name="Claim").click()
    code = person.locator("#perk-code")
    expect(code).to_be_visible()
    expect(person.locator("#claim-box")).to_contain_text("free shoes")
    person.screenshot(path=screenshot_dir / "perks-2-phone-claimed.png", full_page=True)
    claim = Claim.objects.select_related("code").get(user=alice)
    assert claim.code is not None
    expect(code).to_have_text(claim.code.code)
    phone.close()

    # the brand sees the claim in its analytics
    page.reload()
    expect(page.locator("#funnel-claims")).to_have_text("1")
    expect(page.locator("#funnel-views")).to_have_text("1")
    expect(page.locator("#claims")).to_contain_text(claim.code.code)
    expect(page.locator("#claims-by-tier")).to_contain_text("Gold")
    page.screenshot(path=screenshot_dir / "perks-3-brand-analytics.png", full_page=True)
