"""+K in a real browser: Bob gives Alice +K on her profile, the allowance drops, Alice is told."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from accounts.models import User
from scoring.kloutids import klout_id_of
from scoring.plusk import PlusK
from tests.browser.signing import sign_in
from tests.factories.accounts import UserFactory
from tests.factories.networks import NetworkAccountFactory
from tests.factories.scoring import ScoringRunFactory
from tests.factories.topics import TopicFactory, TopicScoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_bob_gives_alice_plus_k_and_alice_is_notified(page: Page, live_server: Any) -> None:
    cache.clear()
    alice = UserFactory.create(email="alice@example.com", display_name="Alice")
    bob = UserFactory.create(email="bob@example.com", display_name="Bob")
    User.objects.filter(pk=bob.pk).update(date_joined=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    NetworkAccountFactory.create(user=bob, handle="bob_dev")
    quantum = TopicFactory.create(slug="quantum-computing", display_name="Quantum Computing")
    run = ScoringRunFactory.create(day=dt.date.today())
    TopicScoreFactory.create(run=run, user=alice, topic=quantum, reactors=17, posts=6)
    kid = klout_id_of(user_id=alice.pk)
    base = live_server.url

    sign_in(page, base, "bob@example.com")
    page.goto(f"{base}/p/{kid}/")
    expect(page.locator("#topics")).to_contain_text("17 people reacted to 6 of their posts")
    expect(page.locator("#plusk-allowance")).to_have_text("You can give 5 more +K today.")
    page.get_by_role("button", name="Give Alice +K in Quantum Computing").click()
    expect(page.locator("#topics")).to_contain_text("You gave +K")
    expect(page.locator("#plusk-allowance")).to_have_text("You can give 4 more +K today.")
    assert PlusK.objects.get().giver_id == bob.pk

    page.context.clear_cookies()
    sign_in(page, base, "alice@example.com")
    page.goto(f"{base}/notifications/")
    expect(page.get_by_text("Bob gave you +K in Quantum Computing")).to_be_visible()


def test_bob_gives_on_the_topic_page_and_takes_it_back_within_the_hour(
    page: Page, live_server: Any
) -> None:
    cache.clear()
    alice = UserFactory.create(email="alice@example.com", display_name="Alice")
    bob = UserFactory.create(email="bob@example.com", display_name="Bob")
    User.objects.filter(pk=bob.pk).update(date_joined=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    NetworkAccountFactory.create(user=bob, handle="bob_dev")
    quantum = TopicFactory.create(slug="quantum-computing", display_name="Quantum Computing")
    run = ScoringRunFactory.create(day=dt.date.today())
    TopicScoreFactory.create(run=run, user=alice, topic=quantum, reactors=17, posts=6)
    base = live_server.url

    sign_in(page, base, "bob@example.com")
    page.goto(f"{base}/topics/quantum-computing/")
    expect(page.locator("#plusk-allowance")).to_have_text("You can give 5 more +K today.")
    page.get_by_role("button", name="Give Alice +K in Quantum Computing").click()
    expect(page.locator("#board")).to_contain_text("You gave +K")
    expect(page.locator("#plusk-allowance")).to_have_text("You can give 4 more +K today.")

    page.get_by_role("button", name="Take back your +K in Quantum Computing").click()
    expect(page.locator("#plusk-allowance")).to_have_text("You can give 5 more +K today.")
    expect(page.get_by_role("button", name="Give Alice +K in Quantum Computing")).to_be_visible()
    assert PlusK.objects.live().count() == 0
    assert PlusK.objects.get().taken_back_at is not None
