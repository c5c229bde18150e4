"""A demo person sees their achievements with progress on the dashboard and on /achievements/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from achievements.models import Unlock
from scoring.models import PersonFigures
from tests.browser.signing import sign_in
from tests.factories.accounts import UserFactory
from tests.factories.networks import NetworkAccountFactory
from tests.factories.scoring import score_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def alice_with_achievements() -> dict[str, Any]:
    """Alice: scored, mentioned by 73 unique people, silver 'Talk of the town' unlocked."""
    cache.clear()
    alice = UserFactory.create(email="alice@example.com", display_name="Alice")
    NetworkAccountFactory.create(user=alice, handle="alice_dev")
    latest = score_history(user=alice, days=10, score=52.0)
    run = latest.daily.run
    PersonFigures.objects.create(
        run=run, day=run.day, user=alice, score=52.0, mentioners=73, top_moment_reactions=12
    )
    for level in (1, 2):
        Unlock.objects.create(
            user=alice, achievement="mentioned", level=level, day=run.day, run=run
        )
    return {"alice": alice}


def test_a_person_sees_achievements_with_progress(
    page: Page, live_server: Any, alice_with_achievements: dict[str, Any], screenshot_dir: Path
) -> None:
    base = live_server.url
    sign_in(page, base, "alice@example.com")

    # the dashboard loads the achievements fragment through HTMX
    mentioned = page.locator('#my-achievements li[data-key="mentioned"]')
    expect(mentioned).to_contain_text("Talk of the town")
    expect(mentioned).to_contain_text("silver")
    expect(mentioned.locator(".progress-text")).to_have_text("73/100 people")
    expect(mentioned.locator("img")).to_have_attribute("src", "/achievements/art/mentioned/2.svg")
    score = page.locator('#my-achievements li[data-key="score"]')
    expect(score).to_contain_text("bronze")  # 52 reached 50
    expect(score.locator(".progress-text")).to_have_text("52/60 points")
    expect(page.locator("#improve")).to_contain_text("How to improve")
    page.locator("#my-achievements").scroll_into_view_if_needed()
    page.screenshot(path=screenshot_dir / "achievements-1-dashboard.png", full_page=True)

    # every achievement, with the share of people holding each level
    page.goto(f"{base}/achievements/")
    row = page.locator('#holdings tr[data-key="mentioned"]')
    expect(row).to_contain_text("100.0%")
    expect(page.locator('#my-achievements li[data-key="mentioned"] .progress-text')).to_have_text(
        "73/100 people"
    )
    page.screenshot(path=screenshot_dir / "achievements-2-index.png", full_page=True)
