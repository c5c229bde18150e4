"""The issue's "done when" walk, end to end: a day is scored and published (which primes the
API's cached answers), a key comes from create_api_key, and a Twitter-origin account is found by
screen name and walked through identity -> user -> score -> topics -> influence."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from networks.models import Network
from scoring.models import RunStatus
from scoring.services import compute_day
from tests.factories.scoring import DAY, accounts, noon, react

pytestmark = pytest.mark.django_db


def test_walk_from_screen_name_to_influence(client: Client, django_capture_on_commit_callbacks):
    star = accounts("star", 1, network=Network.HIGGS)[0]
    fans = accounts("fan", 8, network=Network.HIGGS)
    for back in range(3):
        react([(f, star) for f in fans], at=noon(DAY - dt.timedelta(days=back)))
    with django_capture_on_commit_callbacks(execute=True):
        run = compute_day(day=DAY)  # publishes, assigns kloutIds, primes the API's answers
    assert run.status == RunStatus.PUBLISHED
    out = StringIO()
    call_command("create_api_key", "walker", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]

    response = client.get(f"/v2/identity.json/twitter?key={key}&screenName=star0")
    assert response.status_code == 200, response.content
    identity = response.json()
    kid = identity["id"]
    response = client.get(f"/v2/user.json/{kid}?key={key}")
    assert response.status_code == 200, response.content
    user = response.json()
    score = client.get(f"/v2/user.json/{kid}/score?key={key}").json()
    topics = client.get(f"/v2/user.json/{kid}/topics?key={key}").json()
    influence = client.get(f"/v2/user.json/{kid}/influence?key={key}").json()

    assert identity["network"] == "ks"
    assert user["kloutId"] == kid
    assert user["nick"] == "star0"
    assert score["score"] == user["score"]["score"] > 1
    assert isinstance(topics, list)
    assert influence["myInfluenceesCount"] == 8
    assert len(influence["myInfluencees"]) == 5
    fan_ids = {e["entity"]["id"] for e in influence["myInfluencees"]}
    assert all(client.get(f"/v2/user.json/{f}?key={key}").status_code == 200 for f in fan_ids)
