"""Per-person topic scores, as perks reads them: the one place that knows where they live.

The topic read model is built by the topics work in `scoring`; until it exists here nobody has a
topic score, so a campaign that requires a topic admits no one (and says so to each person).
"""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User


def scores_for(user_id: int) -> dict[str, float]:
    """The person's topic scores by topic name (1-100)."""
    return {}


def people_with(topic: str, min_score: int) -> QuerySet[User]:
    """Ids of people whose score in `topic` reaches `min_score` (a subquery for the preview)."""
    return User.objects.none().values("pk")  # type: ignore[return-value]


def known_topics() -> list[str]:
    """Topic names a campaign can target."""
    return []
