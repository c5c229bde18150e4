"""People's perk pages: what they qualify for (and what they lack), the claim flow, my perks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from klout.http import AuthedHttpRequest, HtmxHttpRequest
from perks import audience, services
from perks.eligibility import Verdict, check
from perks.models import Campaign, CampaignKind, Claim, Membership


@dataclass
class Offer:
    campaign: Campaign
    verdict: Verdict
    claim: Claim | None


def _offers(request: AuthedHttpRequest) -> list[Offer]:
    """Every open campaign with the person's verdict on it (a fixed number of queries)."""
    facts = audience.person_facts(request.user)
    today = timezone.localdate()
    campaigns = (
        Campaign.objects.open()
        .select_related("brand")
        .prefetch_related("tiers")
        .defer("image")
        .order_by("-activated_at", "pk")
    )
    claims = {c.campaign_id: c for c in Claim.objects.filter(user=request.user)}
    return [
        Offer(
            campaign=c,
            verdict=check(c.rules(tiers=list(c.tiers.all())), facts, today=today),
            claim=claims.get(c.pk),
        )
        for c in campaigns
    ]


@require_GET
@login_required
def perk_list(request: AuthedHttpRequest) -> HttpResponse:
    """Perks the person qualifies for, and the others with what they lack."""
    offers = _offers(request)
    return render(
        request,
        "perks/perks.html",
        {
            "qualifying": [o for o in offers if o.verdict.eligible or o.claim],
            "others": [o for o in offers if not o.verdict.eligible and not o.claim],
            "has_country": bool(request.user.country),
        },
    )


def _detail_context(request: AuthedHttpRequest, campaign: Campaign) -> dict[str, object]:
    facts = audience.person_facts(request.user)
    verdict = check(campaign.rules(), facts, today=timezone.localdate())
    return {
        "campaign": campaign,
        "verdict": verdict,
        "claim": Claim.objects.filter(campaign=campaign, user=request.user)
        .select_related("code", "tier")
        .first(),
        "idempotency_key": uuid.uuid4().hex,
        "physical": campaign.kind == CampaignKind.PHYSICAL,
    }


def _visible_campaign(request: AuthedHttpRequest, campaign_id: int) -> Campaign:
    """An open campaign, or one the person already claimed (their code stays readable)."""
    campaign = get_object_or_404(Campaign.objects.select_related("brand"), pk=campaign_id)
    if campaign.is_open and campaign.brand.is_approved:
        return campaign
    if Claim.objects.filter(campaign=campaign, user=request.user).exists():
        return campaign
    raise Http404("This perk is not open.")


@require_GET
@login_required
def perk_detail(request: AuthedHttpRequest, campaign_id: int) -> HttpResponse:
    """One perk: what it is, whether the person qualifies, the disclosure and the claim form."""
    campaign = _visible_campaign(request, campaign_id)
    services.record_view(campaign_id=campaign.pk, user_id=request.user.pk)
    return render(request, "perks/perk.html", _detail_context(request, campaign))


@require_POST
@login_required
def claim(request: AuthedHttpRequest, campaign_id: int) -> HttpResponse:
    """Claim (or apply): the code or link appears; a refusal says why (never a server error)."""
    campaign = _visible_campaign(request, campaign_id)
    error = ""
    try:
        services.claim_perk(
            campaign_id=campaign.pk,
            user_id=request.user.pk,
            idempotency_key=request.POST.get("idempotency_key", ""),
            disclosure_accepted=request.POST.get("disclosure") == "on",
            shipping_address=request.POST.get("shipping_address", "")[:1000],
        )
    except services.ClaimRefused as exc:
        error = exc.reason[:1].upper() + exc.reason[1:] + "."
    if request.htmx:
        context = _detail_context(request, campaign) | {"error": error}
        return render(request, "perks/perk.html#claim-box", context)
    if error:
        messages.error(request, error)
    return redirect("perk_detail", campaign_id=campaign.pk)


@require_GET
@login_required
def my_perks(request: AuthedHttpRequest) -> HttpResponse:
    """The person's claims and applications, with their codes and links."""
    claims = (
        Claim.objects.filter(user=request.user)
        .select_related("campaign__brand", "code", "tier")
        .defer("campaign__image")
        .order_by("-created_at")[:200]
    )
    return render(request, "perks/my_perks.html", {"claims": claims})


@require_GET
def perk_image(request: HtmxHttpRequest, campaign_id: int) -> HttpResponse:
    """A campaign's (re-encoded) image: public while open, else for the brand's members only."""
    campaign = get_object_or_404(
        Campaign.objects.only("image", "image_type", "status", "brand_id"), pk=campaign_id
    )
    member = (
        request.user.is_authenticated
        and Membership.objects.filter(brand_id=campaign.brand_id, user_id=request.user.pk).exists()
    )
    if not campaign.image_type or not (campaign.is_open or member):
        raise Http404("No image.")
    response = HttpResponse(bytes(campaign.image), content_type=campaign.image_type)
    response["Cache-Control"] = "public, max-age=3600"
    return response
