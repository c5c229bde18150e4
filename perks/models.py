"""Brands, their members, campaigns with tiers and codes, claims, and the brand audit log.

Written only through `perks.services`; stock is held by the database (conditional decrements,
unique constraints, check constraints), never by counting in Python.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from perks.eligibility import Place, Rules, Tier, TopicRule

ADDRESS_RETENTION = dt.timedelta(days=30)


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    MANAGER = "manager", "Manager"
    ANALYST = "analyst", "Analyst (read only)"


# What each role may do; a higher rank includes everything below it.
ROLE_RANK = {Role.ANALYST: 1, Role.MANAGER: 2, Role.OWNER: 3}


class BrandQuerySet(models.QuerySet["Brand"]):
    def approved(self) -> BrandQuerySet:
        """Brands staff approved: only they can run campaigns."""
        return self.filter(approved_at__isnull=False)


class Brand(models.Model):
    """A company that offers perks. Staff approve new brands in Django admin."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    website = models.URLField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[BrandQuerySet] = BrandQuerySet.as_manager()  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.name

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None


class Membership(models.Model):
    """A person's role in a brand: owners manage members, managers run campaigns, analysts read."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="brand_memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "user"], name="one_membership_per_brand")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} of {self.brand_id}"

    def may(self, role: str) -> bool:
        """True when this member's role includes `role`'s rights."""
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(role)]


def _new_token() -> str:
    return secrets.token_urlsafe(24)


class Invitation(models.Model):
    """An invitation by e-mail to join a brand with a role; accepted signed in as that e-mail."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices)
    token = models.CharField(max_length=64, unique=True, default=_new_token)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.email} → {self.brand_id} ({self.role})"


class AuditEntry(models.Model):
    """One thing someone did in a brand's name (append-only)."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="audit_entries")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=64)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["brand", "-created_at"], name="audit_brand_time_idx")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"


class CampaignKind(models.TextChoices):
    CODE = "code", "Code (a unique code per person)"
    INVITATION = "invitation", "Invitation (early access by personal link)"
    SELECTION = "selection", "Selection (people apply, the brand picks)"
    PHYSICAL = "physical", "Physical (shipped to an address)"


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ENDED = "ended", "Ended"


# Allowed state changes: draft → scheduled → active ⇄ paused → ended (and straight to active).
TRANSITIONS: dict[str, set[str]] = {
    CampaignStatus.DRAFT: {CampaignStatus.SCHEDULED, CampaignStatus.ACTIVE},
    CampaignStatus.SCHEDULED: {CampaignStatus.ACTIVE, CampaignStatus.DRAFT, CampaignStatus.ENDED},
    CampaignStatus.ACTIVE: {CampaignStatus.PAUSED, CampaignStatus.ENDED},
    CampaignStatus.PAUSED: {CampaignStatus.ACTIVE, CampaignStatus.ENDED},
    CampaignStatus.ENDED: set(),
}


class CampaignQuerySet(models.QuerySet["Campaign"]):
    def open(self) -> CampaignQuerySet:
        """Campaigns people can see and claim now."""
        return self.filter(status=CampaignStatus.ACTIVE, brand__approved_at__isnull=False)


class Campaign(models.Model):
    """A perk offered by a brand to the people its rules admit, with limited stock."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="campaigns")
    title = models.CharField(max_length=120)
    description = models.TextField()
    disclosure = models.TextField(
        help_text="Shown before claiming; people agree to it (e.g. 'Free product from Acme; "
        "posting about it is optional; if you do, say it was free.')"
    )
    kind = models.CharField(max_length=16, choices=CampaignKind.choices, default=CampaignKind.CODE)
    status = models.CharField(
        max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    # Re-encoded by perks.images (never the uploaded bytes); served by the campaign image view.
    image = models.BinaryField(default=b"", blank=True)
    image_type = models.CharField(max_length=32, blank=True)
    invitation_url = models.URLField(blank=True, help_text="Early access: where a link leads.")
    hashtag = models.CharField(max_length=100, blank=True)
    link = models.URLField(blank=True, help_text="The campaign's URL, for amplification.")
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    # Targeting (see perks.eligibility.Rules)
    min_score = models.PositiveSmallIntegerField(default=0)
    countries = models.JSONField(default=list, blank=True)  # ISO codes
    regions = models.JSONField(default=list, blank=True)
    networks = models.JSONField(default=list, blank=True)  # networks.Network values
    topics = models.JSONField(default=list, blank=True)  # [{"topic": str, "min_score": int}]
    min_account_age_days = models.PositiveIntegerField(default=0)
    # Stock: what is left lives in StockShard rows (perks.stock), which claims decrement.
    stock_total = models.PositiveIntegerField(default=0)
    winners_drawn_at = models.DateTimeField(null=True, blank=True)
    draw_seed = models.CharField(max_length=64, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    announced_at = models.DateTimeField(null=True, blank=True)
    addresses_purged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects: ClassVar[CampaignQuerySet] = CampaignQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        indexes = [models.Index(fields=["status", "brand"], name="campaign_status_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == CampaignStatus.ACTIVE

    @property
    def stock_left(self) -> int:
        """Units not yet given (the sum of the campaign's stock shards; annotated on lists)."""
        cached = getattr(self, "stock_remaining", None)
        if cached is not None:
            return int(cached)
        total = self.stock_shards.aggregate(left=models.Sum("remaining"))["left"]
        return int(total or 0)

    @property
    def has_image(self) -> bool:
        return bool(self.image_type)

    @property
    def address_purge_due(self) -> dt.datetime | None:
        """When shipping addresses of an ended physical campaign are deleted."""
        return self.ended_at + ADDRESS_RETENTION if self.ended_at else None

    def can_move_to(self, status: str) -> bool:
        return status in TRANSITIONS[CampaignStatus(self.status)]

    def rules(self, *, tiers: list[CampaignTier] | None = None) -> Rules:
        """The campaign's targeting as pure eligibility rules (pass tiers to save a query)."""
        from django_countries import countries as country_names

        tiers = list(self.tiers.all()) if tiers is None else tiers
        return Rules(
            min_score=self.min_score,
            topics=tuple(TopicRule(t["topic"], int(t["min_score"])) for t in self.topics),
            countries=tuple(
                Place(code, str(country_names.name(code)) or code) for code in self.countries
            ),
            regions=tuple(self.regions),
            networks=tuple(network_label(n) for n in self.networks),
            min_account_age_days=self.min_account_age_days,
            tiers=tuple(Tier(t.name, t.min_score, t.reward) for t in tiers),
        )


def network_label(value: str) -> str:
    """A network's human name for sentences ("GitHub")."""
    from networks.models import Network

    try:
        return str(Network(value).label)
    except ValueError:
        return value


class CampaignTier(models.Model):
    """A score band with its own reward, and optionally its own stock."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="tiers")
    name = models.CharField(max_length=60)
    min_score = models.PositiveSmallIntegerField()
    reward = models.CharField(max_length=200)
    stock_total = models.PositiveIntegerField(null=True, blank=True)  # None: only the total
    stock_left = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["min_score"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "min_score"], name="one_tier_per_minimum"),
            models.CheckConstraint(
                condition=Q(stock_left__isnull=True) | Q(stock_left__gte=0),
                name="tier_stock_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (from {self.min_score}): {self.reward}"


class StockShard(models.Model):
    """Part of a campaign's remaining stock. Claims decrement one shard each, conditionally.

    Stock is split over a few rows so that concurrent claims do not all wait for one row lock
    and one commit after another (see perks.stock); the sum over shards is what is left.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="stock_shards")
    remaining = models.IntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(remaining__gte=0), name="shard_not_negative")
        ]
        indexes = [models.Index(fields=["campaign", "id"], name="shard_campaign_idx")]

    def __str__(self) -> str:
        return f"{self.remaining} of {self.campaign_id}"


class PerkCode(models.Model):
    """One unique code of a code campaign; given to at most one claim."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="codes")
    code = models.CharField(max_length=100)
    tier = models.ForeignKey(
        CampaignTier, null=True, blank=True, on_delete=models.CASCADE, related_name="codes"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "code"], name="uniq_code_per_campaign")
        ]
        indexes = [
            models.Index(
                fields=["campaign", "id"],
                name="code_free_idx",
                condition=Q(claimed_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return self.code


class ClaimStatus(models.TextChoices):
    CLAIMED = "claimed", "Claimed"
    APPLIED = "applied", "Applied"
    WON = "won", "Selected"
    NOT_SELECTED = "not_selected", "Not selected"


class ClaimQuerySet(models.QuerySet["Claim"]):
    def granted(self) -> ClaimQuerySet:
        """Claims that got the perk (claimed outright or selected)."""
        return self.filter(status__in=[ClaimStatus.CLAIMED, ClaimStatus.WON])


class Claim(models.Model):
    """A person's one claim on a campaign (or their application to a selection campaign)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="claims")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="perk_claims"
    )
    tier = models.ForeignKey(
        CampaignTier, null=True, blank=True, on_delete=models.SET_NULL, related_name="claims"
    )
    code = models.OneToOneField(
        PerkCode, null=True, blank=True, on_delete=models.SET_NULL, related_name="claim"
    )
    status = models.CharField(
        max_length=16, choices=ClaimStatus.choices, default=ClaimStatus.CLAIMED
    )
    idempotency_key = models.CharField(max_length=64, unique=True)
    invitation_token = models.CharField(max_length=64, blank=True)
    shipping_address = models.TextField(blank=True)
    disclosure_accepted_at = models.DateTimeField()
    # Facts at claim time, for the brand's analytics (the person may move or change later).
    score = models.PositiveSmallIntegerField(default=0)
    country = models.CharField(max_length=2, blank=True)
    topic = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    redeemed_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[ClaimQuerySet] = ClaimQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "user"], name="one_claim_per_person"),
        ]
        indexes = [
            models.Index(fields=["campaign", "created_at"], name="claim_campaign_time_idx"),
            models.Index(fields=["user", "-created_at"], name="claim_user_time_idx"),
        ]

    def __str__(self) -> str:
        return f"claim {self.pk} of {self.campaign_id} by {self.user_id}"

    @property
    def invitation_link(self) -> str:
        """The person's early-access link: the campaign's URL with their token added to its
        query (which may already have one)."""
        if not self.invitation_token:
            return ""
        parts = urlsplit(self.campaign.invitation_url)
        query = [*parse_qsl(parts.query, keep_blank_values=True), ("invite", self.invitation_token)]
        return urlunsplit(parts._replace(query=urlencode(query)))


class CampaignView(models.Model):
    """A person opened a campaign (once per person): the top of the brand's funnel."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="views")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "user"], name="one_view_per_person")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} saw {self.campaign_id}"


class Audience(models.Model):
    """Read model: one row per scored person with what targeting filters on, for fast previews.

    Rebuilt when a scoring day is published; a person's row follows their location changes.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    score = models.PositiveSmallIntegerField()  # as shown (rounded)
    country = models.CharField(max_length=2, blank=True)
    region = models.CharField(max_length=100, blank=True)  # normalised (casefolded)
    network_bits = models.IntegerField(default=0)  # perks.audience.network_bit of each linked one
    joined = models.DateField()

    class Meta:
        indexes = [
            models.Index(fields=["country", "score"], name="audience_country_score_idx"),
            models.Index(fields=["joined"], name="audience_joined_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.score} {self.country}"


class AudienceCell(models.Model):
    """Read model: how many scored people have each (country, shown score), from `Audience`.

    A preview that targets only score, tiers and countries sums at most 25,000 of these
    instead of counting up to millions of audience rows; kept equal to grouping `Audience`.
    """

    country = models.CharField(max_length=2, blank=True)
    score = models.PositiveSmallIntegerField()
    people = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["country", "score"], name="one_cell_per_place_score")
        ]

    def __str__(self) -> str:
        return f"{self.country or '--'} {self.score}: {self.people}"


class AudienceJoinCell(models.Model):
    """Read model: scored people per (country, shown score, linked networks), with how many had
    joined by the end of each month, from `Audience`.

    A preview that also targets linked networks or a minimum account age sums a few thousand of
    these (plus the audience rows of the one month the age cut falls in) instead of counting up
    to millions of rows; kept equal to counting `Audience` (tested).
    """

    country = models.CharField(max_length=2, blank=True)
    score = models.PositiveSmallIntegerField()
    network_bits = models.IntegerField(default=0)
    people = models.IntegerField(default=0)
    # Months count from year 0 (year * 12 + month - 1); joined_by_month[i] is how many of the
    # cell's people joined by the end of month first_month + i (the last entry is `people`).
    first_month = models.IntegerField()
    joined_by_month = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["country", "score", "network_bits"], name="one_join_cell_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.country or '--'} {self.score} {self.network_bits}: {self.people}"
