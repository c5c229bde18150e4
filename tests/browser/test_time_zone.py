"""The browser's time zone reaches the "how to improve" card: a person in Tokyo with no setting
sees their audience's hours in Asia/Tokyo on the dashboard, through the real page's script."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import Browser, expect

from tests.browser.signing import sign_in
from tests.factories.accounts import UserFactory
from tests.factories.scoring import accounts, react

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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

    sign_in(page, base, "alice@example.com")

    card = page.locator("#improve")
    expect(card).to_contain_text("When your audience acts (Asia/Tokyo")
    expect(card).to_contain_text(
        f"{tokyo.hour:02d}:00-{(tokyo.hour + 1) % 24:02d}:00 Asia/Tokyo: 2 reactions"
    )
    context.close()
