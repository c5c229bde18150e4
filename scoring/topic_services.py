"""A person's decisions about their topics: hide one (never shown or used), add one."""

from __future__ import annotations

from django.db import transaction

from scoring.queries import bump_privacy_epoch
from scoring.topics import ChoiceState, TopicChoice


def hide_topic(*, user_id: int, topic_id: str) -> TopicChoice:
    """Hide a topic: pages stop showing it at once, +K and perks stop using it, later runs too."""
    with transaction.atomic():
        choice, _ = TopicChoice.objects.update_or_create(
            user_id=user_id, topic_id=topic_id, defaults={"state": ChoiceState.HIDDEN}
        )
    transaction.on_commit(bump_privacy_epoch)  # cached fragments may show the topic
    return choice


def unhide_topic(*, user_id: int, topic_id: str) -> int:
    """Show a hidden topic again (from the next page view); returns how many choices went."""
    deleted, _ = TopicChoice.objects.filter(
        user_id=user_id, topic_id=topic_id, state=ChoiceState.HIDDEN
    ).delete()
    transaction.on_commit(bump_privacy_epoch)
    return deleted


def add_topic(*, user_id: int, topic_id: str) -> TopicChoice:
    """Add a topic oneself: shown as added, with a low weight until evidence arrives."""
    choice, _ = TopicChoice.objects.update_or_create(
        user_id=user_id, topic_id=topic_id, defaults={"state": ChoiceState.ADDED}
    )
    return choice
