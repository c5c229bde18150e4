"""How achievements hears about published days, and what it adds to the weekly digest."""

from __future__ import annotations

from typing import Any


def on_day_published(sender: Any, *, run_id: int, **kwargs: Any) -> None:
    """A day was published (sent on commit): evaluate and notify in the background."""
    from achievements.tasks import process_published_day

    process_published_day.delay(run_id)


def connect() -> None:
    """Hook achievements to scoring's signal and the digest (called from AppConfig.ready)."""
    from accounts.digests import register_digest_section
    from accounts.notice_kinds import register_notice_kind
    from achievements.digest import build_week_section
    from scoring.signals import day_published

    day_published.connect(on_day_published, dispatch_uid="achievements-day-published")
    register_digest_section(key="achievements-week", title="Your week", build=build_week_section)
    for kind, label in NOTICE_KINDS:
        register_notice_kind(kind, label)


NOTICE_KINDS = (
    ("score_moved", "My score moved by my threshold"),
    ("top_influencee", "A new top influencee"),
    ("top_influencer", "A new top influencer"),
    ("higher_score_actor", "Someone with a higher score acted on my posts"),
    ("achievement_unlocked", "An achievement unlocked"),
)
