"""Creating and editing a campaign through the brand's form (tiers, targeting, image)."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from perks.models import Brand, Campaign

pytestmark = pytest.mark.django_db


def _form(**extra: object) -> dict[str, object]:
    return {
        "title": "Trail shoes",
        "description": "For people outside.",
        "disclosure": "A gift from Acme.",
        "kind": "code",
        "stock_total": "50",
        "min_score": "30",
        "countries": ["CA", "US"],
        "regions": "Toronto,  New   York",
        "networks": ["github"],
        "topics": "",
        "min_account_age_days": "7",
        "tiers": "Bronze | 30 | 20% off\nGold | 81 | free | 5",
        **extra,
    }


def _jpeg_with_exif() -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (64, 64), (10, 120, 40))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # camera maker: metadata we must not keep
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_a_manager_creates_a_campaign_with_tiers_targeting_and_a_clean_image(
    acme: Brand, clients: dict[str, Client]
) -> None:
    upload = SimpleUploadedFile("shoe.jpg", _jpeg_with_exif(), content_type="image/jpeg")

    response = clients["manager"].post(
        reverse("campaign_new", args=["acme"]), {**_form(), "image": upload}
    )

    campaign = Campaign.objects.get(brand=acme)
    assert response.status_code == 302
    assert response["Location"] == reverse("brand_campaign", args=["acme", campaign.pk])
    assert (campaign.stock_total, campaign.stock_left, campaign.min_score) == (50, 50, 30)
    assert campaign.countries == ["CA", "US"]
    assert campaign.regions == ["Toronto", "New York"]
    assert campaign.networks == ["github"]
    tiers = list(campaign.tiers.values_list("name", "min_score", "reward", "stock_left"))
    assert tiers == [("Bronze", 30, "20% off", None), ("Gold", 81, "free", 5)]
    assert campaign.image_type == "image/jpeg"
    assert b"SecretCam" not in bytes(campaign.image)
    image = clients["manager"].get(reverse("perk_image", args=[campaign.pk]))
    assert image.status_code == 200  # members see a draft's image
    assert clients["person"].get(reverse("perk_image", args=[campaign.pk])).status_code == 404


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tiers", "Gold 81 free", "Line 1: write name | minimum score"),
        ("topics", "Travel 40", "Write topics as Travel: 40"),
        ("image", SimpleUploadedFile("x.jpg", b"not an image"), "not an image we can read"),
    ],
)
def test_bad_campaign_input_is_refused_with_a_reason_and_nothing_is_saved(
    acme: Brand, clients: dict[str, Client], field: str, value: object, message: str
) -> None:
    response = clients["manager"].post(
        reverse("campaign_new", args=["acme"]), _form(**{field: value})
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Campaign.objects.exists()
