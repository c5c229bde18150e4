"""Per-person topic scores, as perks reads them: the one place that knows where they live.

They come from the topic read model in `scoring.topics` (the latest published run of the current
algorithm version, without topics the person hid). Campaigns name topics by their display name
("Travel"); a score counts as people see it, rounded half up.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from scoring.topics import Topic, TopicScore


def scores_for(user_id: int) -> dict[str, float]:
    """The person's topic scores by topic name (1-100)."""
    rows = (
        TopicScore.objects.current()
        .shown()
        .filter(user_id=user_id)
        .values_list("topic__display_name", "score")
    )
    return dict(rows)


def people_with(topic: str, min_score: int) -> QuerySet[TopicScore, Any]:
    """Ids of people whose score in `topic` reaches `min_score` (a subquery for the preview)."""
    return (
        TopicScore.objects.current()
        .shown()
        .filter(user__isnull=False, topic__display_name=topic, score__gte=min_score - 0.5)
        .values("user_id")
    )


def canonical_name(name: str) -> str | None:
    """The ontology's display name for a topic typed in any case; None when there is no such
    topic. Without an imported ontology every name is taken as typed."""
    if not Topic.objects.exists():
        return name
    return (
        Topic.objects.filter(display_name__iexact=name.strip())
        .order_by("depth")
        .values_list("display_name", flat=True)
        .first()
    )
