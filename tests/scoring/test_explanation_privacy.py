"""Explanations name other people only at view time, and never a hidden one (issue 12 item 8).

A stored explanation refers to the account it is about; pages render its handle while the one
"hidden" rule lets that account be shown. Opting out, turning protected, a person opting out or
deleting the account all make the sentence disappear from other people's dashboards.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.services import delete_user, opt_out_person
from networks.models import NetworkAccount
from networks.services import opt_out_network_account, set_account_protected
from scoring.engine.explain import explain_change
from scoring.engine.types import PersonRef, PostRef
from scoring.models import Explanation
from scoring.services import compute_day
from tests.factories.accounts import UserFactory
from tests.factories.scoring import DAY, accounts, noon, react

pytestmark = pytest.mark.django_db


@pytest.fixture
def reacted(alice, settings) -> dict[str, NetworkAccount]:
    """Alice's account `star`, whose strongest reactor `bigfan` acts on it every day; on DAY a
    crowd arrives, so her score rises and the day is explained."""
    settings.KLOUT_ANOMALY_MAX_MOVED_FRACTION = 1.0  # every day publishes
    star = accounts("star", 1, user=alice)[0]
    bigfan = accounts("bigfan", 1)[0]
    fans = accounts("fan", 12)
    for back in range(1, 10):
        at = noon(DAY - dt.timedelta(days=back))
        react([(bigfan, star)] * 3 + [(fans[back % 3], star)], at=at)
    react([(f, star) for f in fans] + [(bigfan, star)], at=noon(DAY))
    compute_day(day=DAY - dt.timedelta(days=1))
    compute_day(day=DAY)
    cache.clear()
    return {"star": star, "bigfan": bigfan}


def explained(client: Client) -> str:
    response = client.get(
        "/dashboard/",
        {"day": DAY.isoformat()},
        headers={"HX-Request": "true", "HX-Target": "explanations"},
    )
    assert response.status_code == 200
    return response.content.decode()


def test_stored_explanations_refer_to_people_and_name_nobody(reacted):
    rows = list(Explanation.objects.filter(score__day=DAY))
    handles = set(NetworkAccount.objects.values_list("handle", flat=True))

    about = [r for r in rows if r.kind == "person"]
    assert about, "the day names a strongest reactor"
    assert {r.about_account_id for r in about} == {reacted["bigfan"].pk}
    assert all(r.text == "your strongest reactor" for r in about)
    for row in rows:
        assert "#" not in row.text
        assert not any(f"@{h}" in row.text for h in handles), row.text


def test_the_strongest_reactor_is_named_while_visible(reacted, alice_client):
    assert "your strongest reactor is @bigfan0" in explained(alice_client)


def owner_of(account: NetworkAccount) -> int:
    """Give the account a person of its own; return their id."""
    owner = UserFactory.create()
    NetworkAccount.objects.filter(pk=account.pk).update(user=owner)
    return owner.pk


HIDING: dict[str, Callable[[NetworkAccount], object]] = {
    "account opted out": lambda a: opt_out_network_account(provider="dev", uid=a.external_id),
    "account turned protected": lambda a: set_account_protected(account_id=a.pk),
    "person opted out": lambda a: opt_out_person(user_id=owner_of(a)),
    "owner deleted": lambda a: delete_user(user_id=owner_of(a)),
}


@pytest.mark.parametrize("hide", HIDING.values(), ids=HIDING.keys())
def test_a_hidden_reactor_is_never_named_on_other_peoples_dashboards(
    reacted, alice_client, hide, django_capture_on_commit_callbacks
):
    assert "@bigfan0" in explained(alice_client)  # cached now, under today's privacy epoch

    with django_capture_on_commit_callbacks(execute=True):
        hide(reacted["bigfan"])

    body = explained(alice_client)
    assert "bigfan0" not in body
    assert "strongest reactor" not in body
    assert "<li" in body, "the other sentences still explain the day"
    full = alice_client.get("/dashboard/", {"day": DAY.isoformat()}).content.decode()
    assert "bigfan0" not in full


def test_explain_change_carries_typed_references_not_indexes_in_words(reacted):
    from scoring.collect import collect_window
    from scoring.engine.registry import DAY as SECONDS
    from scoring.engine.score import score_window

    window = collect_window(day=DAY, days=30)
    cur = score_window(window.interactions, window.posts, as_of=window.as_of)
    prev = score_window(
        window.interactions,
        window.posts,
        as_of=window.as_of - SECONDS,
        calibration=cur.calibration,
    )
    star = int(list(window.account_ids).index(reacted["star"].pk))

    drivers = explain_change(prev, cur, star)

    person = [d for d in drivers if d.kind == "person"]
    assert len(person) == 1
    assert isinstance(person[0].about, PersonRef)
    assert window.account_ids[person[0].about.person] == reacted["bigfan"].pk
    assert all(d.about is None or isinstance(d.about, PersonRef | PostRef) for d in drivers)
    assert not any("#" in d.text for d in drivers)
