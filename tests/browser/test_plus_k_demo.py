"""+K in a real browser between the seeded demo people (`manage.py seed_demo`, what `make run`
loads): Alice Demo signs in with the demo password, gives Bob Demo +K on one of the topics his
real, scored data shows, and Bob Demo sees it in his notifications."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from playwright.sync_api import Page, expect

from accounts.models import User
from klout.management.commands.seed_demo import DEMO_PASSWORD
from scoring.kloutids import klout_id_of
from scoring.plusk import PlusK
from tests.browser.signing import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_seeded_demo_person_gives_another_plus_k_and_they_see_it(
    page: Page, live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Seeded as `make run` seeds, without Redis: each of the 39 published days would otherwise
    # cache every subject's API answers (minutes), which no page here reads.
    with monkeypatch.context() as seeding:
        seeding.setattr("scoring.api.documents.raw_redis", lambda: None)
        call_command("seed_demo", stdout=io.StringIO())
    cache.clear()
    alice = User.objects.get(email="alice@demo.klout.local")
    bob = User.objects.get(email="bob@demo.klout.local")
    base = live_server.url

    sign_in(page, base, "alice@demo.klout.local", DEMO_PASSWORD)
    page.goto(f"{base}/p/{klout_id_of(user_id=bob.pk)}/")
    expect(page.locator("#plusk-allowance")).to_have_text("You can give 5 more +K today.")
    give = page.get_by_role("button", name=re.compile(r"^Give Bob Demo \+K in ")).first
    topic = (give.get_attribute("aria-label") or give.inner_text()).split(" +K in ", 1)[1]
    give.click()
    expect(page.locator("#topics")).to_contain_text("You gave +K")
    expect(page.locator("#plusk-allowance")).to_have_text("You can give 4 more +K today.")
    given = PlusK.objects.get()
    assert (given.giver_id, given.receiver_user_id) == (alice.pk, bob.pk)
    assert given.topic.display_name == topic

    page.context.clear_cookies()
    sign_in(page, base, "bob@demo.klout.local", DEMO_PASSWORD)
    page.goto(f"{base}/notifications/")
    expect(page.get_by_text(f"Alice Demo gave you +K in {topic}")).to_be_visible()
