"""The brand dashboard at /brands/<slug>/: campaigns, live targeting preview, analytics, members.

Every view finds the person's membership of the brand in the URL first: someone who is not a
member gets 404 (a brand's existence is not confirmed to strangers), a member whose role does not
allow the action gets 403. Analysts read; managers run campaigns; owners also manage members.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Subquery, Sum
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from klout.http import AuthedHttpRequest
from klout.paging import page_of
from perks import analytics, audience, services
from perks.eligibility import Rules
from perks.forms import BrandForm, CampaignForm, CodesForm, InviteForm, RedeemForm
from perks.models import (
    AuditEntry,
    Brand,
    Campaign,
    CampaignKind,
    CampaignStatus,
    Claim,
    ClaimStatus,
    Membership,
    Role,
    StockShard,
)
from perks.services import PerkError, TierInput

AUDIT_PAGE_SIZE = 100  # audit entries to a page, newest first


def _membership(request: AuthedHttpRequest, slug: str, role: str = Role.ANALYST) -> Membership:
    """The person's membership of the brand: 404 for non-members, 403 for too small a role."""
    membership = (
        Membership.objects.select_related("brand")
        .filter(brand__slug=slug, user_id=request.user.pk)
        .first()
    )
    if membership is None:
        raise Http404("No such brand.")
    if not membership.may(role):
        raise PermissionDenied(f"Your role ({membership.role}) cannot do this.")
    return membership


def _campaign(membership: Membership, campaign_id: int) -> Campaign:
    return get_object_or_404(Campaign, pk=campaign_id, brand_id=membership.brand_id)


# --- Brands -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def brand_list(request: AuthedHttpRequest) -> HttpResponse:
    """The person's brands, and a form to register a new one (staff approve it)."""
    form = BrandForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            brand = services.create_brand(
                user_id=request.user.pk,
                name=form.cleaned_data["name"],
                website=form.cleaned_data["website"],
            )
        except PerkError as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, f"{brand.name} is registered; staff will approve it soon.")
            return redirect("brand_dashboard", slug=brand.slug)
    memberships = Membership.objects.filter(user=request.user).select_related("brand")
    return render(
        request,
        "perks/brands.html",
        {"memberships": memberships.order_by("brand__name"), "form": form},
    )


@require_http_methods(["GET", "POST"])
@login_required
def accept_invitation(request: AuthedHttpRequest, token: str) -> HttpResponse:
    """Accept an invitation to a brand (signed in with the invited e-mail)."""
    if request.method == "POST":
        try:
            membership = services.accept_invitation(token=token, user_id=request.user.pk)
        except PerkError as exc:
            messages.error(request, str(exc))
            return redirect("brand_list")
        return redirect("brand_dashboard", slug=membership.brand.slug)
    return render(request, "perks/invitation.html", {"token": token})


@require_GET
@login_required
def brand_dashboard(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    """A brand's campaigns with their funnel at a glance."""
    membership = _membership(request, slug)
    campaigns = (
        Campaign.objects.filter(brand=membership.brand)
        .defer("image")
        .annotate(
            claim_count=Count("claims", distinct=True),
            stock_remaining=Subquery(
                StockShard.objects.filter(campaign=OuterRef("pk"))
                .values("campaign")
                .annotate(left=Sum("remaining"))
                .values("left")
            ),
        )
        .order_by("-created_at")
    )
    return render(
        request,
        "perks/brand_dashboard.html",
        {"membership": membership, "brand": membership.brand, "campaigns": campaigns},
    )


# --- Campaigns: create, edit, preview ---------------------------------------------------------


def _initial(campaign: Campaign) -> dict[str, Any]:
    tiers = "\n".join(
        f"{t.name} | {t.min_score} | {t.reward}"
        + (f" | {t.stock_total}" if t.stock_total is not None else "")
        for t in campaign.tiers.all()
    )
    topics = ", ".join(f"{t['topic']}: {t['min_score']}" for t in campaign.topics)
    return {
        **{name: getattr(campaign, name) for name in services.CAMPAIGN_FIELDS},
        "regions": ", ".join(campaign.regions),
        "topics": topics,
        "tiers": tiers,
        "stock_total": campaign.stock_total,
    }


@require_http_methods(["GET", "POST"])
@login_required
def campaign_edit(
    request: AuthedHttpRequest, slug: str, campaign_id: int | None = None
) -> HttpResponse:
    """Create or edit a campaign, with the live audience preview beside the form."""
    membership = _membership(request, slug, Role.MANAGER)
    campaign = _campaign(membership, campaign_id) if campaign_id else None
    if request.method == "POST":
        form = CampaignForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                campaign = services.save_campaign(
                    brand_id=membership.brand_id,
                    actor_id=request.user.pk,
                    campaign_id=campaign.pk if campaign else None,
                    fields=form.campaign_fields(),
                    stock_total=form.cleaned_data["stock_total"],
                    tiers=form.cleaned_data["tiers"],
                    image=form.cleaned_data["image"],
                )
            except PerkError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Campaign saved.")
                return redirect("brand_campaign", slug=slug, campaign_id=campaign.pk)
    else:
        form = CampaignForm(initial=_initial(campaign) if campaign else {"stock_total": 100})
    return render(
        request,
        "perks/campaign_form.html",
        {
            "membership": membership,
            "brand": membership.brand,
            "campaign": campaign,
            "form": form,
            "preview": _preview(form),
        },
    )


def _preview(form: CampaignForm) -> audience.Preview | None:
    """The audience of whatever targeting the form holds so far (None when it does not parse)."""
    if not form.is_bound:
        return audience.preview(Rules(), networks=(), today=timezone.localdate())
    form.is_valid()
    data = form.cleaned_data
    needed = ("min_score", "min_account_age_days")
    if any(name not in data for name in needed):
        return None
    from perks.eligibility import Place, Tier, TopicRule

    tiers: list[TierInput] = data.get("tiers") or []
    rules = Rules(
        min_score=data["min_score"] or 0,
        topics=tuple(TopicRule(t["topic"], t["min_score"]) for t in data.get("topics") or []),
        countries=tuple(Place(code, code) for code in data.get("countries") or []),
        regions=tuple(data.get("regions") or []),
        min_account_age_days=data["min_account_age_days"] or 0,
        tiers=tuple(Tier(t.name, t.min_score, t.reward) for t in tiers),
    )
    return audience.preview(rules, networks=data.get("networks") or [], today=timezone.localdate())


@require_GET
@login_required
def campaign_preview(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    """How many scored people the targeting reaches now, by tier and country (HTMX, debounced)."""
    membership = _membership(request, slug)
    form = CampaignForm(request.GET)
    context = {"membership": membership, "brand": membership.brand, "preview": _preview(form)}
    if request.htmx:
        return render(request, "perks/campaign_form.html#preview", context)
    return render(request, "perks/preview.html", context)


# --- Campaigns: analytics and actions ---------------------------------------------------------


@require_GET
@login_required
def campaign_page(request: AuthedHttpRequest, slug: str, campaign_id: int) -> HttpResponse:
    """One campaign: state and actions, funnel, claims over time and by tier/country/topic."""
    membership = _membership(request, slug)
    campaign = _campaign(membership, campaign_id)
    claims = (
        Claim.objects.filter(campaign=campaign)
        .select_related("tier", "code")
        .order_by("-created_at")[:50]
    )
    return render(
        request,
        "perks/campaign.html",
        {
            "membership": membership,
            "brand": membership.brand,
            "campaign": campaign,
            "can_manage": membership.may(Role.MANAGER),
            "funnel": analytics.funnel(campaign),
            "by_day": analytics.claims_by_day(campaign),
            "by_tier": analytics.claims_by_tier(campaign),
            "by_country": analytics.claims_by_country(campaign),
            "by_topic": analytics.claims_by_topic(campaign),
            "amplification": analytics.amplification(campaign),
            "claims": claims,
            "codes_left": campaign.codes.filter(claimed_at__isnull=True).count(),
            "next_states": [s for s in CampaignStatus if campaign.can_move_to(s)],
            "codes_form": CodesForm(),
            "is_code": campaign.kind == CampaignKind.CODE,
            "is_selection": campaign.kind == CampaignKind.SELECTION,
            "applicants": campaign.claims.filter(status=ClaimStatus.APPLIED).count(),
        },
    )


def _back(slug: str, campaign: Campaign) -> HttpResponse:
    return redirect(reverse("brand_campaign", args=[slug, campaign.pk]))


@require_POST
@login_required
def campaign_status(request: AuthedHttpRequest, slug: str, campaign_id: int) -> HttpResponse:
    """Schedule, activate, pause, resume or end a campaign."""
    membership = _membership(request, slug, Role.MANAGER)
    campaign = _campaign(membership, campaign_id)
    try:
        services.change_campaign_status(
            campaign_id=campaign.pk, actor_id=request.user.pk, status=request.POST.get("status", "")
        )
    except PerkError as exc:
        messages.error(request, str(exc))
    except ValueError:
        messages.error(request, "Unknown state.")
    return _back(slug, campaign)


@require_POST
@login_required
def campaign_codes(request: AuthedHttpRequest, slug: str, campaign_id: int) -> HttpResponse:
    """Upload a CSV of codes or generate some."""
    membership = _membership(request, slug, Role.MANAGER)
    campaign = _campaign(membership, campaign_id)
    form = CodesForm(request.POST, request.FILES)
    try:
        if not form.is_valid():
            raise PerkError(" ".join(str(e) for e in form.non_field_errors()) or "Check the form.")
        if form.cleaned_data["csv_file"]:
            codes = services.parse_codes_csv(form.cleaned_data["csv_file"].read(20 * 1024 * 1024))
            added = services.add_codes(
                campaign_id=campaign.pk, actor_id=request.user.pk, codes=codes
            )
        else:
            added = services.generate_codes(
                campaign_id=campaign.pk,
                actor_id=request.user.pk,
                count=form.cleaned_data["generate"],
            )
    except PerkError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{added} codes added.")
    return _back(slug, campaign)


@require_POST
@login_required
def campaign_redeem(request: AuthedHttpRequest, slug: str, campaign_id: int) -> HttpResponse:
    """Mark a claim used, or upload a redemption CSV of used codes."""
    membership = _membership(request, slug, Role.MANAGER)
    campaign = _campaign(membership, campaign_id)
    form = RedeemForm(request.POST, request.FILES)
    try:
        if not form.is_valid():
            raise PerkError("Check the form.")
        codes: list[str] = []
        if form.cleaned_data["csv_file"]:
            codes = services.parse_codes_csv(form.cleaned_data["csv_file"].read(20 * 1024 * 1024))
        claim_ids = [form.cleaned_data["claim"]] if form.cleaned_data["claim"] else []
        if not codes and not claim_ids and not form.cleaned_data["csv_file"]:
            raise PerkError("Choose a CSV file of used codes (one code per line) to upload.")
        marked = services.mark_redeemed(
            campaign_id=campaign.pk, actor_id=request.user.pk, codes=codes, claim_ids=claim_ids
        )
    except PerkError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{marked} marked as used.")
    return _back(slug, campaign)


@require_POST
@login_required
def campaign_draw(request: AuthedHttpRequest, slug: str, campaign_id: int) -> HttpResponse:
    """Draw winners at random among applicants (the seed is recorded and shown)."""
    membership = _membership(request, slug, Role.MANAGER)
    campaign = _campaign(membership, campaign_id)
    try:
        winners = services.draw_winners(
            campaign_id=campaign.pk,
            actor_id=request.user.pk,
            seed=request.POST.get("seed", "")[:64],
        )
    except PerkError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{len(winners)} winners drawn; everyone was told.")
    return _back(slug, campaign)


@require_POST
@login_required
def campaign_pick(request: AuthedHttpRequest, slug: str, campaign_id: int) -> HttpResponse:
    """Pick winners by hand among applicants (the ticked claims)."""
    membership = _membership(request, slug, Role.MANAGER)
    campaign = _campaign(membership, campaign_id)
    try:
        ids = [int(value) for value in request.POST.getlist("claim")]
        winners = services.pick_winners(
            campaign_id=campaign.pk, actor_id=request.user.pk, claim_ids=ids
        )
    except ValueError as exc:  # PerkError too
        messages.error(request, str(exc) if isinstance(exc, PerkError) else "Pick applicants.")
    else:
        messages.success(request, f"{len(winners)} winners picked; everyone was told.")
    return _back(slug, campaign)


@require_GET
@login_required
def campaign_export(
    request: AuthedHttpRequest, slug: str, campaign_id: int
) -> StreamingHttpResponse:
    """The campaign's claims as CSV, streamed."""
    membership = _membership(request, slug)
    campaign = _campaign(membership, campaign_id)
    services.audit(
        brand_id=membership.brand_id,
        actor_id=request.user.pk,
        action="claims.exported",
        campaign_id=campaign.pk,
    )
    response = StreamingHttpResponse(analytics.export_rows(campaign), content_type="text/csv")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="claims-{campaign.pk}-{stamp}.csv"'
    return response


# --- Members and audit ------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def brand_members(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    """Members and pending invitations; owners invite, change roles and remove."""
    membership = _membership(
        request, slug, Role.OWNER if request.method == "POST" else Role.ANALYST
    )
    brand: Brand = membership.brand
    form = InviteForm(request.POST or None)
    if request.method == "POST":
        remove = request.POST.get("remove")
        change = request.POST.get("member")
        try:
            if remove:
                services.remove_member(
                    brand_id=brand.pk, actor_id=request.user.pk, membership_id=int(remove)
                )
                messages.success(request, "Member removed.")
                return redirect("brand_members", slug=slug)
            if change:
                changed = services.change_member_role(
                    brand_id=brand.pk,
                    actor_id=request.user.pk,
                    membership_id=int(change),
                    role=request.POST.get("role", ""),
                )
                messages.success(request, f"{changed.user.email} is now {changed.role}.")
                return redirect("brand_members", slug=slug)
            if form.is_valid():
                services.invite_member(
                    brand_id=brand.pk,
                    actor_id=request.user.pk,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                )
                messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
                return redirect("brand_members", slug=slug)
        except (PerkError, ValueError) as exc:
            messages.error(request, str(exc))
    return render(
        request,
        "perks/members.html",
        {
            "membership": membership,
            "brand": brand,
            "members": brand.memberships.select_related("user").order_by("role", "user__email"),
            "invitations": brand.invitations.filter(accepted_at__isnull=True),
            "form": form,
            "is_owner": membership.may(Role.OWNER),
            "roles": Role.choices,
        },
    )


@require_GET
@login_required
def brand_audit(request: AuthedHttpRequest, slug: str) -> HttpResponse:
    """Everything done in the brand's name, newest first (owners only)."""
    membership = _membership(request, slug, Role.OWNER)
    entries = (
        AuditEntry.objects.filter(brand=membership.brand)
        .select_related("actor")
        .order_by("-created_at", "-pk")
    )
    # One query whatever the page: a page and one more row, to know whether an older page exists.
    page = page_of(request, entries, AUDIT_PAGE_SIZE)
    return render(
        request,
        "perks/audit.html",
        {
            "membership": membership,
            "brand": membership.brand,
            "entries": page.rows,
            "page": page,
        },
    )
