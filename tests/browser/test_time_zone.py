"""The browser's time zone reaches the "how to improve" card: a person in Tokyo with no setting
sees their audience's hours in Asia/Tokyo on the dashboard, through the real page's script."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import Browser, expect

from tests.factories.accounts import UserFactory
from tests.factories.scoring import accounts, react

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"


def test_the_dashboard_shows_hours_in_the_browsers_time_zone(
    browser: Browser, live_server: Any
) -> None:
    cache.clear()
    alice = UserFactory.create(email="alice@example.com", display_name="Alice")
    moment = (timezone.now() - dt.timedelta(days=2)).replace(hour=18, minute=5)
    main = accounts("alice", 1, user=alice)[0]
    react([(fan, main) for fan in accounts("fanofalice", 2)], at=moment)
    tokyo = moment.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
    context = browser.new_context(timezone_id="Asia/Tokyo")
    page = context.new_page()
    base = live_server.url

    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", "alice@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name=re.compile("Sign In", re.I)).click()
    page.wait_for_url(re.compile(r"/dashboard/$"))

    card = page.locator("#improve")
    expect(card).to_contain_text("When your audience acts (Asia/Tokyo")
    expect(card).to_contain_text(
        f"{tokyo.hour:02d}:00-{(tokyo.hour + 1) % 24:02d}:00 Asia/Tokyo: 2 reactions"
    )
    context.close()
