"""A scored person's journey in a real browser, on a desktop and on a 390-px phone.

Sign in → dashboard → open a day's explanation (HTMX) → search someone → open their profile →
change notification settings. Screenshots go to var/screenshots/ (git-ignored test artifacts).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import Page, expect

from tests.browser.signing import sign_in
from tests.factories.accounts import UserFactory
from tests.factories.networks import NetworkAccountFactory
from tests.factories.scoring import ExplanationFactory, score_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "mobile": {"width": 390, "height": 844}}


def _notification_settings_exist() -> bool:
    try:
        reverse("notification_settings")
    except NoReverseMatch:
        return False
    return True


@pytest.fixture
def scored_world() -> dict[str, Any]:
    """Alice with 90 days of history and explanations; Grace, a public account to look up."""
    cache.clear()
    alice = UserFactory.create(email="alice@example.com", display_name="Alice")
    NetworkAccountFactory.create(user=alice, handle="alice_dev")
    grace = NetworkAccountFactory.create(handle="gracehopper", display_name="Grace Hopper")
    score_history(account=grace, days=60, score=71.0)
    latest = score_history(
        user=alice,
        score=47.0,
        latest={"change_1d": 1.4, "change_7d": -2.0, "change_30d": 5.5},
        influencers=[
            {"account_id": grace.pk, "network": "dev", "handle": "gracehopper", "weight": 3}
        ],
        moments=[{"post_id": 1, "text": "My sourdough thread", "posted_at": None, "actions": 40}],
    )
    ExplanationFactory.create(score=latest.daily, points=1.4, text="9 new people shared your posts")
    earlier_day = latest.day - dt.timedelta(days=3)
    earlier = alice.daily_scores.get(day=earlier_day)
    ExplanationFactory.create(score=earlier, points=-0.8, text="Reactions from May count less now")
    return {"alice": alice, "earlier_day": earlier_day}


@pytest.mark.parametrize("screen", list(VIEWPORTS))
def test_scored_person_checks_score_explanation_search_profile_and_settings(
    page: Page, live_server: Any, scored_world: dict[str, Any], screenshot_dir: Path, screen: str
) -> None:
    base = live_server.url
    page.set_viewport_size(VIEWPORTS[screen])  # type: ignore[arg-type]
    shot = lambda name: page.screenshot(  # noqa: E731
        path=screenshot_dir / f"individual-{screen}-{name}.png", full_page=True
    )

    # sign in
    sign_in(page, base, "alice@example.com")

    # the dashboard: score card, chart, explanation of the latest day
    expect(page.locator("#score-card .score-big")).to_have_text("47")
    expect(page.locator("#history svg title").first).to_have_text(
        "Your score over the last 90 days"
    )
    expect(page.locator("#explanations")).to_contain_text("9 new people shared your posts")
    expect(page.locator("#history-table")).to_be_hidden()
    page.get_by_role("button", name="Show the data as a table").click()
    expect(page.locator("#history-table")).to_be_visible()
    page.get_by_role("button", name="Show the data as a table").click()
    shot("1-dashboard")
    page.locator("#history").screenshot(path=screenshot_dir / f"individual-{screen}-1b-chart.png")

    # open another day's explanation through HTMX (the page itself stays)
    day = scored_world["earlier_day"]
    page.locator(f'#why a.chip[href="?day={day.isoformat()}"]').click()
    expect(page.locator("#explanations")).to_contain_text("Reactions from May count less now")
    expect(page.locator("#score-card")).to_be_visible()
    assert page.url.endswith(f"?day={day.isoformat()}")
    page.locator("#why").scroll_into_view_if_needed()
    shot("2-explanation")

    # search someone with live results
    page.goto(f"{base}/search/")
    page.locator("#q").press_sequentially("grace", delay=30)
    result = page.locator("#results a", has_text="Grace Hopper")
    expect(result).to_be_visible()
    shot("3-search")

    # open their profile
    result.click()
    page.wait_for_url(re.compile(r"/u/dev/gracehopper$"))
    expect(page.locator(".score-big")).to_have_text("71")
    expect(page.locator("#claim")).to_contain_text("This account is not claimed")
    shot("4-profile")

    # change notification settings (the accounts app's page)
    if not _notification_settings_exist():
        pytest.skip("accounts has no notification settings page yet; journey stops at profile")
    page.goto(f"{base}/settings/notifications/")
    page.fill("input[name=score_move_threshold]", "7")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Notification settings saved.")).to_be_visible()
    shot("5-settings")
    alice = scored_world["alice"]
    alice.notification_preference.refresh_from_db()
    assert alice.notification_preference.score_move_threshold == 7
