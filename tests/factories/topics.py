"""Factories for topics and topic scores (the read model pages, perks and the API use)."""

from __future__ import annotations

import factory

from scoring.engine.topic_names import ENTITY
from scoring.topics import Topic, TopicEdge, TopicScore


class TopicFactory(factory.django.DjangoModelFactory[Topic]):
    class Meta:
        model = Topic
        django_get_or_create = ("id",)

    id = factory.Sequence(lambda n: str(9_000_000_000 + n))
    slug = factory.Sequence(lambda n: f"topic-{n}")
    display_name = factory.Sequence(lambda n: f"Topic {n}")
    names = factory.LazyAttribute(lambda o: {"en": o.display_name})
    depth = 3
    topic_type = ENTITY


class TopicEdgeFactory(factory.django.DjangoModelFactory[TopicEdge]):
    class Meta:
        model = TopicEdge

    parent = factory.SubFactory(TopicFactory)
    child = factory.SubFactory(TopicFactory)


class TopicScoreFactory(factory.django.DjangoModelFactory[TopicScore]):
    """A topic score of a subject in a (published by default) run; pass user= or account=."""

    class Meta:
        model = TopicScore

    run = factory.SubFactory("tests.factories.scoring.ScoringRunFactory")
    day = factory.SelfAttribute("run.day")
    topic = factory.SubFactory(TopicFactory)
    score = 50.0
    raw = 1.0
    rank = 1
    posts = 3
    reactions = 10
    reactors = 7
