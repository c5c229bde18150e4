"""What brands paid for: the funnel, claims over time and by tier, country and topic, amplification.

Read-only, a fixed number of grouped queries per campaign; nothing here names a person except the
export, which a brand needs to ship physical perks.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from networks.models import Interaction, Post
from perks.models import Campaign, CampaignKind, Claim, ClaimStatus

AMPLIFICATION_POSTS_SHOWN = 10


@dataclass
class Funnel:
    views: int
    claims: int
    redeemed: int

    def share(self, part: int) -> int:
        """A step as a percentage of views (0 without views)."""
        return round(100 * part / self.views) if self.views else 0


def funnel(campaign: Campaign) -> Funnel:
    """Views → claims (or applications) → redeemed."""
    claims = Claim.objects.filter(campaign=campaign).aggregate(
        claims=Count("pk"), redeemed=Count("pk", filter=Q(redeemed_at__isnull=False))
    )
    return Funnel(
        views=campaign.views.count(), claims=claims["claims"], redeemed=claims["redeemed"]
    )


@dataclass
class Breakdown:
    """Counts by a label, biggest first, with the largest count for bar scales."""

    rows: list[tuple[str, int]] = field(default_factory=list)

    @property
    def top(self) -> int:
        return max((n for _, n in self.rows), default=0)


def _breakdown(campaign: Campaign, column: str, *, order_by_label: bool = False) -> Breakdown:
    rows = (
        Claim.objects.filter(campaign=campaign)
        .values_list(column)
        .annotate(n=Count("pk"))
        .order_by(column if order_by_label else "-n")
    )
    return Breakdown([(str(label) if label not in (None, "") else "—", n) for label, n in rows])


def claims_by_day(campaign: Campaign) -> Breakdown:
    """Claims per day, oldest first."""
    rows = (
        Claim.objects.filter(campaign=campaign)
        .annotate(day=TruncDate("created_at"))
        .values_list("day")
        .annotate(n=Count("pk"))
        .order_by("day")
    )
    return Breakdown([(day.isoformat(), n) for day, n in rows])


def claims_by_tier(campaign: Campaign) -> Breakdown:
    return _breakdown(campaign, "tier__name")


def claims_by_country(campaign: Campaign) -> Breakdown:
    return _breakdown(campaign, "country")


def claims_by_topic(campaign: Campaign) -> Breakdown:
    return _breakdown(campaign, "topic")


@dataclass
class Amplification:
    posts: int
    reactions: int
    top: list[tuple[Post, int]]


def amplification(campaign: Campaign) -> Amplification | None:
    """Posts that mention the hashtag or URL since launch, and the reactions they drew."""
    if campaign.activated_at is None or not (campaign.hashtag or campaign.link):
        return None
    mention = Q()
    if campaign.hashtag:
        tag = campaign.hashtag.lstrip("#")
        mention |= Q(text__icontains=f"#{tag}")
    if campaign.link:
        mention |= Q(text__icontains=campaign.link.removeprefix("https://").removeprefix("http://"))
    posts = Post.objects.filter(mention, posted_at__gte=campaign.activated_at)
    ids = list(posts.values_list("pk", flat=True)[:10_000])
    per_post = dict(
        Interaction.objects.filter(post_id__in=ids)
        .values_list("post_id")
        .annotate(n=Count("pk"))
        .values_list("post_id", "n")
    )
    top_ids = sorted(per_post, key=lambda pk: -per_post[pk])[:AMPLIFICATION_POSTS_SHOWN]
    top_posts = Post.objects.select_related("account").in_bulk(top_ids)
    return Amplification(
        posts=len(ids),
        reactions=sum(per_post.values()),
        top=[(top_posts[pk], per_post[pk]) for pk in top_ids if pk in top_posts],
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


EXPORT_COLUMNS = [
    "claim",
    "claimed_at",
    "status",
    "tier",
    "reward",
    "score",
    "country",
    "topic",
    "code",
    "redeemed_at",
    "name",
    "shipping_address",
]


def export_rows(campaign: Campaign) -> Iterator[str]:
    """The campaign's claims as CSV lines, streamed (one query, read in chunks)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    physical = campaign.kind == CampaignKind.PHYSICAL
    claims = (
        Claim.objects.filter(campaign=campaign)
        .select_related("tier", "code", "user")
        .order_by("pk")
    )
    for claim in claims.iterator(chunk_size=2000):
        shipped = physical and claim.status in {ClaimStatus.CLAIMED, ClaimStatus.WON}
        yield writer.writerow(
            [
                claim.pk,
                claim.created_at.isoformat(),
                claim.status,
                claim.tier.name if claim.tier else "",
                claim.tier.reward if claim.tier else "",
                claim.score,
                claim.country,
                claim.topic,
                claim.code.code if claim.code else "",
                claim.redeemed_at.isoformat() if claim.redeemed_at else "",
                claim.user.public_name if shipped else "",
                claim.shipping_address if shipped else "",
            ]
        )
