"""The write paths of perks: brands and members, campaigns, codes, claims, draws, redemptions.

Every brand action writes an `AuditEntry`. Stock is held by the database: `claim_perk`
decrements it with a conditional UPDATE (of one of the campaign's stock shards, perks.stock), a
unique (campaign, person) constraint allows one claim, and codes are handed out with SELECT …
FOR UPDATE SKIP LOCKED, so concurrent claims never oversell and never share a code.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import random
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.mail import send_mail
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from accounts.services import Notice, notify, send_notice_rows, send_notices
from perks import audience, stock
from perks.eligibility import check
from perks.models import (
    AuditEntry,
    Brand,
    Campaign,
    CampaignKind,
    CampaignStatus,
    CampaignTier,
    CampaignView,
    Claim,
    ClaimStatus,
    Invitation,
    Membership,
    PerkCode,
    Role,
)

logger = logging.getLogger(__name__)

OUT_OF_STOCK = "out of stock"
MAX_CODES_PER_UPLOAD = 100_000
MAX_CODE_LENGTH = 100


class PerkError(ValueError):
    """A brand action that cannot be done; the message says why in plain words."""


class ClaimRefused(PerkError):
    """A claim that was refused; `reason` is what the person is told."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def audit(*, brand_id: int, actor_id: int | None, action: str, **detail: object) -> AuditEntry:
    """Record one brand action in the brand's audit log."""
    return AuditEntry.objects.create(
        brand_id=brand_id, actor_id=actor_id, action=action, detail=detail
    )


# --- Brands and members -----------------------------------------------------------------------


def create_brand(*, user_id: int, name: str, website: str = "") -> Brand:
    """A person registers a brand: they become its owner; staff approve it before it can run."""
    name = " ".join(name.split())
    if not name:
        raise PerkError("Give the brand a name.")
    base = slugify(name)[:50] or "brand"
    with transaction.atomic():
        slug, n = base, 1
        while Brand.objects.filter(slug=slug).exists():
            n += 1
            slug = f"{base}-{n}"
        brand = Brand.objects.create(name=name, slug=slug, website=website)
        Membership.objects.create(brand=brand, user_id=user_id, role=Role.OWNER)
        audit(brand_id=brand.pk, actor_id=user_id, action="brand.created", name=name)
    return brand


def approve_brand(*, brand_id: int, staff_id: int) -> Brand:
    """Staff approve a brand (from Django admin); its owners are told."""
    with transaction.atomic():
        brand = Brand.objects.select_for_update().get(pk=brand_id)
        if brand.approved_at is None:
            brand.approved_at = timezone.now()
            brand.save(update_fields=["approved_at"])
            audit(brand_id=brand.pk, actor_id=staff_id, action="brand.approved")
            for membership in brand.memberships.filter(role=Role.OWNER):
                notify(
                    user_id=membership.user_id,
                    kind="brand_approved",
                    title=f"{brand.name} is approved: you can run campaigns now",
                    url=reverse("brand_dashboard", args=[brand.slug]),
                )
    return brand


def invite_member(*, brand_id: int, actor_id: int, email: str, role: str) -> Invitation:
    """An owner invites someone by e-mail to join the brand with a role."""
    email = email.strip().lower()
    if role not in Role.values:
        raise PerkError("Choose a role: owner, manager or analyst.")
    brand = Brand.objects.get(pk=brand_id)
    if brand.memberships.filter(user__email__iexact=email).exists():
        raise PerkError(f"{email} is already a member of {brand.name}.")
    with transaction.atomic():
        invitation = Invitation.objects.create(
            brand=brand, email=email, role=role, invited_by_id=actor_id
        )
        audit(brand_id=brand.pk, actor_id=actor_id, action="member.invited", email=email, role=role)
        link = reverse("brand_invitation", args=[invitation.token])
        transaction.on_commit(
            lambda: send_mail(
                f"Join {brand.name} on Klout",
                f"You are invited to join {brand.name} as {Role(role).label}.\n"
                f"Sign in as {email} and open {link} to accept.",
                None,
                [email],
            )
        )
    return invitation


def accept_invitation(*, token: str, user_id: int) -> Membership:
    """The invited person (signed in with the invited e-mail) joins the brand."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().filter(token=token).first()
        user = User.objects.get(pk=user_id)
        if invitation is None or invitation.accepted_at is not None:
            raise PerkError("This invitation is not valid any more.")
        if invitation.email.lower() != user.email.lower():
            raise PerkError(f"This invitation is for {invitation.email}; sign in with it.")
        membership, _ = Membership.objects.get_or_create(
            brand_id=invitation.brand_id, user_id=user_id, defaults={"role": invitation.role}
        )
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        audit(
            brand_id=invitation.brand_id,
            actor_id=user_id,
            action="member.joined",
            role=invitation.role,
        )
    return membership


def _owner_locking_members(*, brand_id: int, actor_id: int) -> list[Membership]:
    """The brand's members, row-locked (in id order), after checking the actor is an owner."""
    members = list(Membership.objects.select_for_update().filter(brand_id=brand_id).order_by("pk"))
    actor = next((m for m in members if m.user_id == actor_id), None)
    if actor is None or actor.role != Role.OWNER:
        raise PerkError("Only an owner can change members.")
    return members


def remove_member(*, brand_id: int, actor_id: int, membership_id: int) -> None:
    """An owner removes a member; the last owner cannot be removed."""
    with transaction.atomic():
        members = _owner_locking_members(brand_id=brand_id, actor_id=actor_id)
        target = next((m for m in members if m.pk == membership_id), None)
        if target is None:
            raise PerkError("That person is not a member.")
        owners = [m for m in members if m.role == Role.OWNER]
        if target.role == Role.OWNER and len(owners) == 1:
            raise PerkError("A brand needs an owner: make someone else owner first.")
        target.delete()
        audit(
            brand_id=brand_id,
            actor_id=actor_id,
            action="member.removed",
            user_id=target.user_id,
            role=target.role,
        )


def change_member_role(
    *, brand_id: int, actor_id: int, membership_id: int, role: str
) -> Membership:
    """An owner makes a member owner, manager or analyst; the last owner keeps their role."""
    if role not in Role.values:
        raise PerkError("Choose a role: owner, manager or analyst.")
    with transaction.atomic():
        members = _owner_locking_members(brand_id=brand_id, actor_id=actor_id)
        target = next((m for m in members if m.pk == membership_id), None)
        if target is None:
            raise PerkError("That person is not a member.")
        if target.role == role:
            return target
        owners = [m for m in members if m.role == Role.OWNER]
        if target.role == Role.OWNER and len(owners) == 1:
            raise PerkError("A brand needs an owner: make someone else owner first.")
        before = target.role
        target.role = role
        target.save(update_fields=["role"])
        audit(
            brand_id=brand_id,
            actor_id=actor_id,
            action="member.role_changed",
            user_id=target.user_id,
            before=before,
            after=role,
        )
    return target


# --- Campaigns --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TierInput:
    name: str
    min_score: int
    reward: str
    stock: int | None = None


# What eligibility reads (Campaign.rules).
CAMPAIGN_RULE_FIELDS = (
    "min_score",
    "countries",
    "regions",
    "networks",
    "topics",
    "min_account_age_days",
)
CAMPAIGN_FIELDS = (
    "title",
    "description",
    "disclosure",
    "kind",
    "invitation_url",
    "hashtag",
    "link",
    "starts_at",
    "ends_at",
    *CAMPAIGN_RULE_FIELDS,
)


def save_campaign(
    *,
    brand_id: int,
    actor_id: int,
    fields: dict[str, object],
    stock_total: int,
    tiers: Sequence[TierInput] = (),
    campaign_id: int | None = None,
    image: tuple[bytes, str] | None = None,
) -> Campaign:
    """Create or edit a campaign; a stock change moves what is left by the same amount."""
    unknown = set(fields) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise PerkError(f"Unknown campaign fields: {', '.join(sorted(unknown))}")
    if stock_total < 0:
        raise PerkError("Stock cannot be negative.")
    with transaction.atomic():
        if campaign_id is None:
            campaign = Campaign(brand_id=brand_id, stock_total=stock_total)
            given = 0
            action = "campaign.created"
        else:
            campaign = Campaign.objects.select_for_update().get(pk=campaign_id, brand_id=brand_id)
            if campaign.status == CampaignStatus.ENDED:
                raise PerkError("An ended campaign cannot be changed.")
            given = campaign.stock_total - stock.remaining(campaign.pk)
            if stock_total < given:
                raise PerkError(f"{given} already claimed: stock cannot go below that.")
            campaign.stock_total = stock_total
            action = "campaign.updated"
            if campaign.status != CampaignStatus.DRAFT and "kind" in fields:
                fields = {k: v for k, v in fields.items() if k != "kind"}
        for name, value in fields.items():
            setattr(campaign, name, value)
        if image is not None:
            campaign.image, campaign.image_type = image
        campaign.save()
        stock.set_remaining(campaign_id=campaign.pk, left=stock_total - given)
        _save_tiers(campaign, tiers)
        audit(
            brand_id=brand_id,
            actor_id=actor_id,
            action=action,
            campaign_id=campaign.pk,
            title=campaign.title,
            stock_total=stock_total,
        )
    return campaign


def _save_tiers(campaign: Campaign, tiers: Sequence[TierInput]) -> None:
    existing = {tier.min_score: tier for tier in campaign.tiers.all()}
    wanted = {tier.min_score for tier in tiers}
    for min_score, tier in existing.items():
        if min_score not in wanted:
            if tier.claims.exists():
                raise PerkError(f"The tier from {min_score} has claims; it cannot be removed.")
            tier.delete()
    for item in tiers:
        tier = existing.get(item.min_score) or CampaignTier(
            campaign=campaign, min_score=item.min_score
        )
        given = tier.claims.count() if tier.pk else 0
        if item.stock is not None and item.stock < given:
            raise PerkError(f"Tier {item.name}: {given} already claimed.")
        tier.name, tier.reward = item.name, item.reward
        tier.stock_total = item.stock
        tier.stock_left = None if item.stock is None else item.stock - given
        tier.save()


def parse_codes_csv(data: bytes) -> list[str]:
    """Codes from an uploaded CSV: the first column of every row; a header named 'code' skipped."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PerkError("The file is not UTF-8 text.") from None
    codes: list[str] = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not row[0].strip():
            continue
        code = row[0].strip()
        if number == 1 and code.lower() == "code":
            continue
        if len(code) > MAX_CODE_LENGTH:
            raise PerkError(f"Line {number}: a code is at most {MAX_CODE_LENGTH} characters.")
        codes.append(code)
        if len(codes) > MAX_CODES_PER_UPLOAD:
            raise PerkError(f"At most {MAX_CODES_PER_UPLOAD:,} codes per upload.")
    if not codes:
        raise PerkError("The file holds no codes.")
    return codes


def add_codes(
    *, campaign_id: int, actor_id: int | None, codes: Iterable[str], tier_id: int | None = None
) -> int:
    """Add unique codes to a code campaign; codes it already has are skipped. Returns how many."""
    campaign = Campaign.objects.get(pk=campaign_id)
    if campaign.kind != CampaignKind.CODE:
        raise PerkError("Only code campaigns have codes.")
    unique = list(dict.fromkeys(code.strip() for code in codes if code.strip()))
    with transaction.atomic():
        known = set(
            PerkCode.objects.filter(campaign=campaign, code__in=unique).values_list(
                "code", flat=True
            )
        )
        new = [
            PerkCode(campaign=campaign, code=code, tier_id=tier_id)
            for code in unique
            if code not in known
        ]
        PerkCode.objects.bulk_create(new, batch_size=5000)
        audit(
            brand_id=campaign.brand_id,
            actor_id=actor_id,
            action="codes.added",
            campaign_id=campaign.pk,
            added=len(new),
            skipped=len(unique) - len(new),
        )
    return len(new)


def generate_codes(*, campaign_id: int, actor_id: int | None, count: int, prefix: str = "") -> int:
    """Generate `count` random unique codes (10 characters, no look-alike letters)."""
    if not 1 <= count <= MAX_CODES_PER_UPLOAD:
        raise PerkError(f"Generate between 1 and {MAX_CODES_PER_UPLOAD:,} codes.")
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    codes = {prefix + "".join(secrets.choice(alphabet) for _ in range(10)) for _ in range(count)}
    return add_codes(campaign_id=campaign_id, actor_id=actor_id, codes=codes)


def change_campaign_status(
    *, campaign_id: int, actor_id: int | None, status: str, now: dt.datetime | None = None
) -> Campaign:
    """Move a campaign along draft → scheduled → active ⇄ paused → ended."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().select_related("brand").get(pk=campaign_id)
        if campaign.status == status:
            return campaign
        if status not in CampaignStatus.values:
            raise PerkError(f"There is no campaign status {status!r}.")
        if not campaign.can_move_to(status):
            now_is = campaign.get_status_display().lower()
            article = "An" if now_is[0] in "aeiou" else "A"
            raise PerkError(f"{article} {now_is} campaign cannot become {status}.")
        if status in {CampaignStatus.SCHEDULED, CampaignStatus.ACTIVE}:
            _check_ready(campaign, status=status)
        campaign.status = status
        if status == CampaignStatus.ACTIVE and campaign.activated_at is None:
            campaign.activated_at = now
        if status == CampaignStatus.ENDED:
            campaign.ended_at = now
        campaign.save(update_fields=["status", "activated_at", "ended_at"])
        audit(
            brand_id=campaign.brand_id,
            actor_id=actor_id,
            action=f"campaign.{status}",
            campaign_id=campaign.pk,
        )
        if status == CampaignStatus.ACTIVE and campaign.announced_at is None:
            from perks.tasks import announce_campaign

            announce_campaign.delay_on_commit(campaign.pk)  # type: ignore[attr-defined]
    return campaign


def _check_ready(campaign: Campaign, *, status: str) -> None:
    if not campaign.brand.is_approved:
        raise PerkError("Staff have not approved this brand yet.")
    if campaign.stock_total <= 0:
        raise PerkError("Set the stock first.")
    if campaign.kind == CampaignKind.CODE and not campaign.codes.exists():
        raise PerkError("Upload or generate codes first.")
    if campaign.kind == CampaignKind.INVITATION and not campaign.invitation_url:
        raise PerkError("Set the early-access link first.")
    if not campaign.disclosure.strip():
        raise PerkError("Write the disclosure people agree to first.")
    if status == CampaignStatus.SCHEDULED and campaign.starts_at is None:
        raise PerkError("Set when the campaign starts first.")


def advance_campaigns(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Start scheduled campaigns whose time came and end those past their end (beat task)."""
    now = now or timezone.now()
    counts = {"started": 0, "ended": 0}
    due = Campaign.objects.filter(status=CampaignStatus.SCHEDULED, starts_at__lte=now)
    for campaign_id in list(due.values_list("pk", flat=True)):
        try:
            change_campaign_status(
                campaign_id=campaign_id, actor_id=None, status=CampaignStatus.ACTIVE, now=now
            )
            counts["started"] += 1
        except PerkError as exc:
            logger.warning("campaign %s did not start: %s", campaign_id, exc)
    over = Campaign.objects.filter(
        status__in=[CampaignStatus.ACTIVE, CampaignStatus.PAUSED], ends_at__lte=now
    )
    for campaign_id in list(over.values_list("pk", flat=True)):
        change_campaign_status(
            campaign_id=campaign_id, actor_id=None, status=CampaignStatus.ENDED, now=now
        )
        counts["ended"] += 1
    return counts


def purge_shipping_addresses(*, now: dt.datetime | None = None) -> int:
    """Delete the shipping addresses of physical campaigns that ended 30 days ago or more."""
    from perks.models import ADDRESS_RETENTION

    now = now or timezone.now()
    due = Campaign.objects.filter(
        kind=CampaignKind.PHYSICAL,
        status=CampaignStatus.ENDED,
        ended_at__lte=now - ADDRESS_RETENTION,
        addresses_purged_at__isnull=True,
    )
    purged = 0
    for campaign in due:
        with transaction.atomic():
            purged += campaign.claims.exclude(shipping_address="").update(shipping_address="")
            Campaign.objects.filter(pk=campaign.pk).update(addresses_purged_at=now)
            audit(
                brand_id=campaign.brand_id,
                actor_id=None,
                action="addresses.purged",
                campaign_id=campaign.pk,
            )
    return purged


# --- Claims -----------------------------------------------------------------------------------


def record_view(*, campaign_id: int, user_id: int) -> None:
    """A person opened a campaign (counted once per person for the brand's funnel)."""
    CampaignView.objects.get_or_create(campaign_id=campaign_id, user_id=user_id)


def _claim_perk(
    *,
    campaign_id: int,
    user_id: int,
    idempotency_key: str,
    disclosure_accepted: bool,
    shipping_address: str = "",
    today: dt.date | None = None,
) -> Claim:
    if not idempotency_key or len(idempotency_key) > 64:
        raise ClaimRefused("this claim form has expired: reload the page")
    if not disclosure_accepted:
        raise ClaimRefused("read and accept the disclosure first")
    found = _campaign_and_tiers(campaign_id)
    if found is None:
        raise ClaimRefused("this perk is not open")
    campaign, tiers = found
    shipping_address = shipping_address.strip()
    if campaign.kind == CampaignKind.PHYSICAL and not shipping_address:
        raise ClaimRefused("enter the address to ship it to")
    facts = audience.facts_of(
        user_id, topics=bool(campaign.topics), networks=bool(campaign.networks)
    )
    verdict = check(campaign.rules(tiers=tiers), facts, today=today or timezone.localdate())
    if not verdict.eligible:
        raise ClaimRefused(verdict.lacks[0])
    tier = next((t for t in tiers if verdict.tier and t.min_score == verdict.tier.min_score), None)
    applying = campaign.kind == CampaignKind.SELECTION
    claim = Claim(
        campaign=campaign,
        user_id=user_id,
        tier=tier,
        status=ClaimStatus.APPLIED if applying else ClaimStatus.CLAIMED,
        idempotency_key=idempotency_key,
        invitation_token=secrets.token_urlsafe(16)
        if campaign.kind == CampaignKind.INVITATION
        else "",
        shipping_address=shipping_address if campaign.kind == CampaignKind.PHYSICAL else "",
        disclosure_accepted_at=timezone.now(),
        score=round(facts.score or 0),
        country=facts.country,
        topic=_best_topic(campaign, facts.topic_scores),
    )
    needs = stock.Needs(
        stock=not applying,
        code=campaign.kind == CampaignKind.CODE,
        tier_stock=not applying and tier is not None and tier.stock_left is not None,
    )
    try:
        recorded = stock.record_claim(claim, needs=needs)
    except IntegrityError:
        # The person (or this very submit, by its key) already claimed: nothing was taken.
        raise _AlreadyClaimed from None
    if not recorded:
        raise ClaimRefused(OUT_OF_STOCK)
    return claim


def _in_field_order(model: type[models.Model], names: Sequence[str]) -> list[str]:
    wanted = set(names)
    return [f.attname for f in model._meta.concrete_fields if f.attname in wanted]


_CLAIM_FIELDS = _in_field_order(
    Campaign, ("id", "title", "kind", "status", "brand_id", *CAMPAIGN_RULE_FIELDS)
)
_TIER_FIELDS = _in_field_order(
    CampaignTier, ("id", "campaign_id", "name", "min_score", "reward", "stock_left")
)


def _campaign_and_tiers(campaign_id: int) -> tuple[Campaign, list[CampaignTier]] | None:
    """An open campaign of an approved brand with its tiers, in one query (a row per tier; the
    fields not read load on access, as with .only()); None when no such campaign is open."""
    rows = list(
        Campaign.objects.open()
        .filter(pk=campaign_id)
        .values_list(*_CLAIM_FIELDS, *(f"tiers__{name}" for name in _TIER_FIELDS))
        .order_by("tiers__min_score")
    )
    if not rows:
        return None
    width = len(_CLAIM_FIELDS)
    db = Campaign.objects.db
    campaign = Campaign.from_db(db, _CLAIM_FIELDS, rows[0][:width])
    tiers = [
        CampaignTier.from_db(db, _TIER_FIELDS, row[width:])
        for row in rows
        if row[width] is not None
    ]
    for tier in tiers:
        tier.campaign = campaign
    return campaign, tiers


class _AlreadyClaimed(Exception):
    """The person already has a claim on the campaign (maybe this very submit's)."""


def claim_perk(
    *,
    campaign_id: int,
    user_id: int,
    idempotency_key: str,
    disclosure_accepted: bool,
    shipping_address: str = "",
    today: dt.date | None = None,
) -> Claim:
    """Claim a perk (or apply, for selection campaigns): at most once, never past the stock.

    The same idempotency key returns the claim it made; every refusal raises ClaimRefused with
    the sentence the person sees ("out of stock" when none is left). A first submit costs four
    queries (campaign, tiers, the person's facts, the write); the key is looked up only when the
    write clashed or was refused, which is when a double submit shows itself.
    """
    try:
        return _claim_perk(
            campaign_id=campaign_id,
            user_id=user_id,
            idempotency_key=idempotency_key,
            disclosure_accepted=disclosure_accepted,
            shipping_address=shipping_address,
            today=today,
        )
    except _AlreadyClaimed:
        made = _claim_by_key(idempotency_key)
        if made is not None and made.user_id == user_id:
            return made
        if made is not None:
            raise ClaimRefused("this claim form has expired: reload the page") from None
        raise ClaimRefused("you already claimed this perk") from None
    except ClaimRefused:
        # A double submit after the campaign ran out or closed still shows its claim.
        made = _claim_by_key(idempotency_key) if idempotency_key else None
        if made is not None and made.user_id == user_id:
            return made
        raise


def _claim_by_key(idempotency_key: str) -> Claim | None:
    """The claim a submit with this key made (read outside the failed write)."""
    return Claim.objects.filter(idempotency_key=idempotency_key).select_related("code").first()


def _best_topic(campaign: Campaign, topic_scores: dict[str, float] | object) -> str:
    scores = topic_scores if isinstance(topic_scores, dict) else {}
    wanted = [t["topic"] for t in campaign.topics if t["topic"] in scores]
    return max(wanted, key=lambda topic: scores[topic], default="")


# --- Selection campaigns ----------------------------------------------------------------------


def draw_winners(*, campaign_id: int, actor_id: int, seed: str = "") -> list[Claim]:
    """Draw winners at random among applicants, as many as the stock; the seed is recorded."""
    seed = seed or secrets.token_hex(8)
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        applicants = list(
            campaign.claims.filter(status=ClaimStatus.APPLIED)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        left = stock.remaining(campaign.pk)
        chosen = random.Random(seed).sample(applicants, k=min(left, len(applicants)))
        campaign.draw_seed = seed
        campaign.save(update_fields=["draw_seed"])
        return _settle_selection(campaign, chosen, actor_id=actor_id, how=f"draw seed {seed}")


def pick_winners(*, campaign_id: int, actor_id: int, claim_ids: Sequence[int]) -> list[Claim]:
    """The brand picks winners by hand among applicants (at most the stock)."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        chosen = list(
            campaign.claims.filter(pk__in=claim_ids, status=ClaimStatus.APPLIED).values_list(
                "pk", flat=True
            )
        )
        left = stock.remaining(campaign.pk)
        if len(chosen) > left:
            raise PerkError(f"Only {left} left to give.")
        return _settle_selection(campaign, chosen, actor_id=actor_id, how="picked")


def _settle_selection(
    campaign: Campaign, chosen: Sequence[int], *, actor_id: int, how: str
) -> list[Claim]:
    if campaign.kind != CampaignKind.SELECTION:
        raise PerkError("Only selection campaigns choose winners.")
    if campaign.winners_drawn_at is not None:
        raise PerkError("Winners were already chosen.")
    if not stock.take_many(campaign_id=campaign.pk, count=len(chosen)):
        raise PerkError(OUT_OF_STOCK)
    Campaign.objects.filter(pk=campaign.pk).update(winners_drawn_at=timezone.now())
    campaign.claims.filter(pk__in=chosen).update(status=ClaimStatus.WON)
    campaign.claims.filter(status=ClaimStatus.APPLIED).update(status=ClaimStatus.NOT_SELECTED)
    audit(
        brand_id=campaign.brand_id,
        actor_id=actor_id,
        action="winners.chosen",
        campaign_id=campaign.pk,
        winners=len(chosen),
        how=how,
    )
    url = reverse("my_perks")
    told = campaign.claims.filter(status__in=[ClaimStatus.WON, ClaimStatus.NOT_SELECTED])
    notices = [
        Notice(
            user_id=user_id,
            kind="perk_selection",
            title=f"You were selected for {campaign.title}"
            if status == ClaimStatus.WON
            else f"You were not selected for {campaign.title} this time",
            body="Your perk is waiting in My perks."
            if status == ClaimStatus.WON
            else "Thank you for applying; there were more applicants than perks.",
            url=url,
            key=f"perk_selection:{campaign.pk}",
            email_if=PERK_EMAIL,
        )
        for user_id, status in told.values_list("user_id", "status")
    ]
    # After the commit: the winners are final before anyone hears of them.
    transaction.on_commit(lambda: send_notices(notices=notices))
    return list(campaign.claims.filter(status=ClaimStatus.WON))


# --- Redemptions ------------------------------------------------------------------------------


def mark_redeemed(
    *,
    campaign_id: int,
    actor_id: int | None,
    codes: Iterable[str] = (),
    claim_ids: Iterable[int] = (),
) -> int:
    """Mark claims used (by claim or by code); returns how many were newly marked."""
    codes, claim_ids = list(codes), list(claim_ids)
    campaign = Campaign.objects.get(pk=campaign_id)
    with transaction.atomic():
        marked = (
            Claim.objects.granted()
            .filter(campaign=campaign, redeemed_at__isnull=True)
            .filter(Q(pk__in=claim_ids) | Q(code__code__in=codes))
            .update(redeemed_at=timezone.now())
        )
        audit(
            brand_id=campaign.brand_id,
            actor_id=actor_id,
            action="claims.redeemed",
            campaign_id=campaign.pk,
            marked=marked,
        )
    return marked


# --- Announcements ----------------------------------------------------------------------------


PERK_EMAIL = "perk_email"  # accounts.NotificationPreference: e-mail me about perks


def announce_campaign(*, campaign_id: int, today: dt.date | None = None) -> int:
    """Tell every person who qualifies that a new perk opened, once per campaign, through the one
    notification pipeline (and by e-mail to those who asked for perk e-mails)."""
    campaign = (
        Campaign.objects.select_related("brand")
        .defer("image")
        .filter(pk=campaign_id, status=CampaignStatus.ACTIVE, announced_at__isnull=True)
        .first()
    )
    if campaign is None:
        return 0
    told = _tell_qualifying([campaign], today=today or timezone.localdate())
    # Marked last: a redelivered task tells nobody twice (the notices' keys) and finishes.
    Campaign.objects.filter(pk=campaign.pk).update(announced_at=timezone.now())
    return told


def tell_new_qualifiers(*, today: dt.date | None = None) -> int:
    """After a published day: people who now qualify for an open, announced perk are told, once
    per campaign (the notice's key); those told before, at its opening or since, are not."""
    open_campaigns = (
        Campaign.objects.select_related("brand")
        .defer("image")
        .filter(status=CampaignStatus.ACTIVE, announced_at__isnull=False)
        .prefetch_related("tiers")
        .order_by("pk")
    )
    return _tell_qualifying(list(open_campaigns), today=today or timezone.localdate())


def _tell_qualifying(campaigns: Sequence[Campaign], *, today: dt.date) -> int:
    """Notices for everyone the campaigns' rules admit now, built in the database: one
    INSERT … SELECT for all of them (`send_notice_rows`), which skips who was told (the key),
    muted people and kinds; then the perk e-mails to those who asked for them."""
    if not campaigns:
        return 0
    parts: list[str] = []
    params: list[object] = []
    for campaign in campaigns:
        sql, part_params = _qualifying_notices_sql(campaign, today=today)
        parts.append(sql)
        params += part_params
    return send_notice_rows(
        sql=" UNION ALL ".join(parts),
        params=params,
        email=[("perk_opened", _opened_key(c), PERK_EMAIL) for c in campaigns],
    )


def _opened_key(campaign: Campaign) -> str:
    return f"perk_opened:{campaign.pk}"


def _qualifying_notices_sql(campaign: Campaign, *, today: dt.date) -> tuple[str, list[object]]:
    """SELECT of one campaign's "new perk" notice for each person its rules admit (the audience
    read model checks every rule; the reward is the person's tier, as `Rules.tier_for` picks)."""
    rules = campaign.rules(tiers=list(campaign.tiers.all()))
    candidates = audience.audience_for(rules, networks=campaign.networks, today=today)
    audience_sql, audience_params = candidates.values("user_id", "score").query.sql_with_params()
    # Highest minimum first; among equal minimums the first tier wins, as in `tier_for`.
    tiers = sorted(rules.tiers, key=lambda tier: tier.min_score, reverse=True)
    reward = "''"
    reward_params: list[object] = []
    if tiers:
        reward = "CASE " + " ".join("WHEN a.score >= %s THEN %s" for _ in tiers) + " ELSE '' END"
        for tier in tiers:
            reward_params += [tier.min_score, f" Yours: {tier.reward}."]
    sql = (
        "SELECT a.user_id AS user_id, %s AS kind, %s AS title, "
        f"%s || {reward} AS body, %s AS url, %s AS key, %s AS day "
        f"FROM ({audience_sql}) a"
    )
    return sql, [
        "perk_opened",
        f"New perk for you: {campaign.title}",
        f"{campaign.brand.name} offers it to people like you.",
        *reward_params,
        reverse("perk_detail", args=[campaign.pk]),
        _opened_key(campaign),
        today,
        *audience_params,
    ]
