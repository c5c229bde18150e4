"""Factories for the network store."""

from __future__ import annotations

import datetime as dt

import factory

from networks.models import Interaction, InteractionKind, Network, NetworkAccount, Post


class NetworkAccountFactory(factory.django.DjangoModelFactory[NetworkAccount]):
    class Meta:
        model = NetworkAccount

    network = Network.DEV
    external_id = factory.Sequence(lambda n: f"ext{n}")
    handle = factory.Sequence(lambda n: f"handle{n}")
    display_name = factory.Faker("name")


class PostFactory(factory.django.DjangoModelFactory[Post]):
    class Meta:
        model = Post

    account = factory.SubFactory(NetworkAccountFactory)
    network = factory.SelfAttribute("account.network")
    external_id = factory.Sequence(lambda n: f"post{n}")
    posted_at = factory.LazyFunction(lambda: dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC))
    text = factory.Faker("sentence")


class InteractionFactory(factory.django.DjangoModelFactory[Interaction]):
    class Meta:
        model = Interaction

    actor = factory.SubFactory(NetworkAccountFactory)
    receiver = factory.SubFactory(NetworkAccountFactory)
    network = factory.SelfAttribute("receiver.network")
    kind = InteractionKind.SHARE
    occurred_at = factory.LazyFunction(lambda: dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC))
    source_key = factory.Sequence(lambda n: f"src{n}")
