"""How perks hears about lower apps: a published day, a person's location, links, opt-outs."""

from __future__ import annotations

from typing import Any


def on_day_published(sender: Any, **kwargs: Any) -> None:
    """Scores changed: the targeting read model is rebuilt."""
    from perks.tasks import rebuild_audience

    rebuild_audience.delay()


def on_person_changed(sender: Any, *, user_id: int, **kwargs: Any) -> None:
    """A person moved, linked or unlinked a network, or opted out: their audience row follows."""
    from perks.audience import refresh_person

    refresh_person(user_id=user_id)


def connect() -> None:
    """Hook perks' receivers to the lower apps' signals (called from AppConfig.ready)."""
    from accounts import signals as account_signals
    from scoring import signals as scoring_signals

    scoring_signals.day_published.connect(on_day_published, dispatch_uid="perks-day-published")
    for signal, name in (
        (account_signals.person_location_changed, "location"),
        (account_signals.person_opted_out, "opt-out"),
        (account_signals.social_account_linked, "linked"),
        (account_signals.social_account_unlinked, "unlinked"),
    ):
        signal.connect(on_person_changed, dispatch_uid=f"perks-person-{name}")
