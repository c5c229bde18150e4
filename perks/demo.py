"""The demo brand `make run` creates: an approved brand, its owner's log-in, an active campaign."""

from __future__ import annotations

from accounts.models import User
from perks import audience, services
from perks.models import Brand, Campaign, CampaignStatus, Membership, Role

DEMO_BRAND_SLUG = "acme-outdoors"
DEMO_BRAND_EMAIL = "brand@demo.klout.local"
DEMO_TIERS = [
    services.TierInput("Bronze", 1, "20% off any jacket"),
    services.TierInput("Silver", 40, "50% off any jacket"),
    services.TierInput("Gold", 70, "A free jacket", stock=10),
]


def seed_demo_brand() -> Brand:
    """Create the demo brand and its active campaign once; later runs change nothing."""
    owner = User.objects.get(email=DEMO_BRAND_EMAIL)
    brand = Brand.objects.filter(slug=DEMO_BRAND_SLUG).first()
    if brand is None:
        brand = services.create_brand(
            user_id=owner.pk, name="Acme Outdoors", website="https://acme.example"
        )
        Brand.objects.filter(pk=brand.pk).update(slug=DEMO_BRAND_SLUG)
        brand.refresh_from_db()
    Membership.objects.get_or_create(brand=brand, user=owner, defaults={"role": Role.OWNER})
    if not brand.is_approved:
        staff = User.objects.filter(is_staff=True).order_by("pk").first()
        brand = services.approve_brand(brand_id=brand.pk, staff_id=staff.pk if staff else owner.pk)
    audience.rebuild_audience()
    if not Campaign.objects.filter(brand=brand).exists():
        campaign = services.save_campaign(
            brand_id=brand.pk,
            actor_id=owner.pk,
            fields={
                "title": "Jackets for people who get people outside",
                "description": "Acme Outdoors thanks the people others listen to about the "
                "outdoors. Your reward grows with your Klout score.",
                "disclosure": "A gift from Acme Outdoors. You do not have to post about it; if "
                "you do, say that it was a gift (#ad).",
                "kind": "code",
                "hashtag": "#AcmeOutdoors",
                "min_score": 1,
            },
            stock_total=100,
            tiers=DEMO_TIERS,
        )
        services.generate_codes(campaign_id=campaign.pk, actor_id=owner.pk, count=100)
        services.change_campaign_status(
            campaign_id=campaign.pk, actor_id=owner.pk, status=CampaignStatus.ACTIVE
        )
    return brand
