"""Factories and small graph builders for scores."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable

import factory

from networks.models import Interaction, InteractionKind, Network, NetworkAccount, Post
from scoring.engine.registry import LATEST
from scoring.models import (
    AlgorithmVersion,
    DailyScore,
    Explanation,
    LatestScore,
    RunStatus,
    ScoringRun,
)

DAY = dt.date(2026, 11, 1)
_keys = itertools.count()


def noon(day: dt.date) -> dt.datetime:
    """Midday UTC on a day: safely inside it."""
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


class AlgorithmVersionFactory(factory.django.DjangoModelFactory[AlgorithmVersion]):
    class Meta:
        model = AlgorithmVersion
        django_get_or_create = ("name",)

    name = LATEST
    is_current = True


class ScoringRunFactory(factory.django.DjangoModelFactory[ScoringRun]):
    class Meta:
        model = ScoringRun
        django_get_or_create = ("day", "version")

    day = DAY
    version = factory.SubFactory(AlgorithmVersionFactory)
    status = RunStatus.PUBLISHED


class DailyScoreFactory(factory.django.DjangoModelFactory[DailyScore]):
    class Meta:
        model = DailyScore

    run = factory.SubFactory(ScoringRunFactory)
    version = factory.SelfAttribute("run.version")
    day = factory.SelfAttribute("run.day")
    account = factory.SubFactory("tests.factories.networks.NetworkAccountFactory")
    score = 20.0
    raw = 1.0


def accounts(
    prefix: str, n: int, *, network: str = Network.DEV, **fields: object
) -> list[NetworkAccount]:
    """n accounts named prefix0..prefix{n-1}, created in one query."""
    return NetworkAccount.objects.bulk_create(
        NetworkAccount(network=network, external_id=f"{prefix}{i}", handle=f"{prefix}{i}", **fields)
        for i in range(n)
    )


def react(
    edges: Iterable[tuple[NetworkAccount, NetworkAccount]],
    *,
    at: dt.datetime,
    kind: str = InteractionKind.SHARE,
    post: Post | None = None,
) -> list[Interaction]:
    """One interaction per (actor, receiver) pair at `at`, created in one query."""
    return Interaction.objects.bulk_create(
        Interaction(
            network=receiver.network,
            actor=actor,
            receiver=receiver,
            post=post,
            kind=kind,
            occurred_at=at,
            source_key=f"t{next(_keys)}",
        )
        for actor, receiver in edges
    )


# --- read side: explanations, the latest-score read model, whole histories (pages' tests) ---


class ExplanationFactory(factory.django.DjangoModelFactory[Explanation]):
    class Meta:
        model = Explanation

    score = factory.SubFactory(DailyScoreFactory)
    points = 1.5
    kind = "reach"
    text = factory.Sequence(lambda n: f"{n + 3} new people shared your post")
    position = factory.Sequence(lambda n: n)


class LatestScoreFactory(factory.django.DjangoModelFactory[LatestScore]):
    """The read-model row for `daily`'s subject; subject, day and score follow `daily`."""

    class Meta:
        model = LatestScore

    daily = factory.SubFactory(DailyScoreFactory)
    version = factory.SelfAttribute("daily.version")
    user = factory.SelfAttribute("daily.user")
    account = factory.SelfAttribute("daily.account")
    day = factory.SelfAttribute("daily.day")
    score = factory.SelfAttribute("daily.score")
    change_1d = 0.0
    change_7d = 0.0
    change_30d = 0.0
    network = factory.LazyAttribute(lambda o: o.account.network if o.account else "")
    handle = factory.LazyAttribute(lambda o: o.account.handle if o.account else "")
    display_name = factory.LazyAttribute(
        lambda o: o.account.display_name if o.account else (o.user.public_name if o.user else "")
    )
    hidden = False


def score_history(
    *,
    user: object = None,
    account: object = None,
    days: int = 90,
    end: dt.date | None = None,
    version: AlgorithmVersion | None = None,
    latest: dict[str, object] | None = None,
    **last: object,
) -> LatestScore:
    """Give a user or account `days` published daily scores ending `end`, and its LatestScore.

    Scores wander between 30 and 49 so charts have a shape; `last` overrides fields of the newest
    row (influencers, moments, last_activity_at...), `latest` fields of the read-model row.
    """
    end = end or dt.date.today() - dt.timedelta(days=1)
    version = version or AlgorithmVersionFactory.create()
    newest = None
    for i in range(days):
        day = end - dt.timedelta(days=days - 1 - i)
        fields: dict[str, object] = {
            "score": 30.0 + (i * 7) % 20,
            "true_reach": 120.0,
            "amplification": 30.0,
            "network_score": 25.0,
            "style": "conversationalist",
            "style_reasons": ["You reply more than you broadcast."],
            "network_contributions": {"dev": 0.75, "mastodon": 0.25},
        }
        if i == days - 1:
            fields.update(last)
        newest = DailyScoreFactory.create(
            user=user, account=account, day=day, run__day=day, run__version=version, **fields
        )
    assert newest is not None
    return LatestScoreFactory.create(daily=newest, **(latest or {}))
