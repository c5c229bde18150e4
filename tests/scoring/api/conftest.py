"""API personas: a partner's key, scored Twitter-origin accounts and a client that calls like
the old client libraries did (parameters in any order, unknown extras along)."""

from __future__ import annotations

import json
import random
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core import signals
from django.db import close_old_connections
from django.test import Client

from accounts.services import create_api_key
from networks.models import Network
from scoring.kloutids import klout_id_of
from scoring.models import DailyScore
from tests.factories.networks import NetworkAccountFactory
from tests.factories.scoring import score_history
from tests.factories.topics import TopicFactory, TopicScoreFactory


@pytest.fixture
def api_key(db) -> str:
    """A partner's key (default quotas)."""
    _key, raw = create_api_key(name="partner app")
    return raw


class LegacyClient:
    """Calls a path with its parameters shuffled and unknown ones added, as clients do."""

    def __init__(self, client: Client, seed: int = 0) -> None:
        self.client = client
        self.random = random.Random(seed)

    def get(self, path: str, **params: str) -> Any:
        items = [*params.items(), ("_", "1700000000"), ("format", "json"), ("lang", "en")]
        self.random.shuffle(items)
        return self.client.get(f"{path}?{urlencode(items)}")

    def json(self, path: str, **params: str) -> tuple[int, Any]:
        response = self.get(path, **params)
        assert response["Content-Type"].startswith("application/json")
        return response.status_code, json.loads(response.content)


@pytest.fixture
def legacy(client: Client) -> LegacyClient:
    return LegacyClient(client)


@pytest.fixture
def twitter_star(db):
    """An X account with a month of scores and a scored influencer and influencee."""
    fan = NetworkAccountFactory.create(network=Network.X, handle="fan", external_id="200")
    score_history(account=fan, days=3, score=33.0)
    mentor = NetworkAccountFactory.create(network=Network.X, handle="mentor", external_id="300")
    score_history(account=mentor, days=3, score=51.2)
    star = NetworkAccountFactory.create(
        network=Network.X, handle="star", external_id="100", display_name="Star"
    )
    entry = lambda a: {"account_id": a.pk, "network": "x", "handle": a.handle, "weight": 1.0}  # noqa: E731
    score_history(
        account=star,
        days=30,
        score=48.87,
        influencers=[entry(mentor)],
        influencees=[entry(fan)],
        style="Thought Leader",
        style_reasons=["You create focused content on a schedule."],
        true_reach=120.4,
        amplification=31.0,
        network_score=27.5,
        latest={"change_1d": 0.12, "change_7d": -1.3, "change_30d": 2.0},
    )
    run = DailyScore.objects.filter(account=star).latest("day").run
    quantum = TopicFactory.create(
        id="6044850417586066071", slug="quantum-computing", display_name="Quantum Computing",
        topic_type="sub",
    )  # fmt: skip
    higgs = TopicFactory.create(id="123", slug="higgs-boson", display_name="Higgs Boson")
    TopicScoreFactory.create(run=run, account=star, topic=quantum, rank=1, score=71.5, posts=6)
    TopicScoreFactory.create(run=run, account=star, topic=higgs, rank=2, score=40.0, posts=2)
    return star


@pytest.fixture
def star_id(twitter_star) -> str:
    return klout_id_of(account_id=twitter_star.pk)


@pytest.fixture
def higgs_account(db):
    """A Higgs sample account: its screen name is its numeric id."""
    account = NetworkAccountFactory.create(network=Network.HIGGS, handle="", external_id="4242")
    score_history(account=account, days=3, score=92.8)
    return account


@pytest.fixture
def wsgi_keeps_the_test_connection():
    """Called as a WSGI app, Django closes the database connection after each request; the
    test's transaction needs it open (Django's own test client disconnects the same receiver)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)
