"""One piece of advice from a person's own figures (pure: no Django, no store).

Never "post more": the advice points at what already works for them — the kind of post, the
network, the hour, or the person that draws their audience's action — with the number behind it.
"""

from __future__ import annotations

from dataclasses import dataclass

KIND_WORDS = {"original": "original posts", "reshare": "reshares", "reply": "replies"}


@dataclass(frozen=True)
class AdviceFigures:
    """Where a person's reactions came from in the scoring window."""

    actions_received: int = 0
    top_post_kind: str = ""
    top_post_kind_share: int = 0  # percent of reactions on their posts
    top_network_label: str = ""
    top_network_share: int = 0  # percent of all reactions
    top_hour: int | None = None  # UTC
    top_hour_share: int = 0
    top_influencee_handle: str = ""


def advice_for(f: AdviceFigures) -> str:
    """The most telling piece of advice the figures support, or "" when they support none."""
    if f.actions_received <= 0:
        return ""
    if f.top_post_kind in KIND_WORDS and f.top_post_kind_share >= 60:
        words = KIND_WORDS[f.top_post_kind]
        return (
            f"Your {words} drew {f.top_post_kind_share}% of the reactions to your posts: "
            "that is the kind of post your audience answers."
        )
    if f.top_network_label and 50 <= f.top_network_share < 100:
        return (
            f"{f.top_network_share}% of your reactions came from {f.top_network_label}: "
            "that is where your audience listens."
        )
    if f.top_hour is not None and f.top_hour_share >= 10:
        return (
            f"{f.top_hour_share}% of your reactions arrive between {f.top_hour:02d}:00 and "
            f"{(f.top_hour + 1) % 24:02d}:00 UTC: share shortly before then."
        )
    if f.top_influencee_handle:
        return (
            f"@{f.top_influencee_handle} acts on your posts more than anyone: "
            "reply to them and keep the conversation going."
        )
    return ""
