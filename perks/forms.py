"""Forms of the perks pages and the brand dashboard."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django_countries import countries

from networks.models import Network
from perks.images import BadImage, reencode_image
from perks.models import CampaignKind, Role
from perks.services import TierInput
from perks.topics import canonical_name

TIER_LINE = re.compile(
    r"^(?P<name>[^|]+)\|\s*(?P<min>\d+)\s*\|(?P<reward>[^|]+)(\|\s*(?P<stock>\d+))?$"
)
TOPIC_ITEM = re.compile(r"^(?P<topic>[^:]+):\s*(?P<min>\d+)$")


class BrandForm(forms.Form):
    name = forms.CharField(max_length=120)
    website = forms.URLField(required=False)


class InviteForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices)


class CampaignForm(forms.Form):
    """A campaign's content, targeting, tiers and stock; also read by the live preview."""

    title = forms.CharField(max_length=120)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    disclosure = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="People read and accept this before claiming (say it is free, and from you).",
    )
    kind = forms.ChoiceField(choices=CampaignKind.choices)
    image = forms.FileField(required=False, help_text="JPEG, PNG, WebP or GIF, at most 2 MB.")
    invitation_url = forms.URLField(required=False, label="Early-access link (invitations)")
    hashtag = forms.CharField(max_length=100, required=False)
    link = forms.URLField(required=False, label="Campaign URL")
    starts_at = forms.DateTimeField(required=False, help_text="YYYY-MM-DD HH:MM (UTC)")
    ends_at = forms.DateTimeField(required=False, help_text="YYYY-MM-DD HH:MM (UTC)")
    stock_total = forms.IntegerField(min_value=0, max_value=10_000_000, label="Stock")
    min_score = forms.IntegerField(min_value=0, max_value=100, initial=0, label="Minimum score")
    countries = forms.MultipleChoiceField(
        choices=list(countries), required=False, widget=forms.SelectMultiple(attrs={"size": 5})
    )
    regions = forms.CharField(
        required=False, help_text="Regions or cities, comma-separated (empty: anywhere)."
    )
    networks = forms.MultipleChoiceField(
        choices=Network.choices, required=False, help_text="People must link one of these."
    )
    topics = forms.CharField(
        required=False, help_text="Topic: minimum topic score, comma-separated (Travel: 40)."
    )
    min_account_age_days = forms.IntegerField(min_value=0, max_value=3650, initial=0)
    tiers = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: name | minimum score | reward | stock (optional). "
        "Example: Gold | 81 | 100% off | 10",
    )

    def clean_regions(self) -> list[str]:
        raw = self.cleaned_data.get("regions") or ""
        return [" ".join(r.split()) for r in raw.split(",") if r.strip()]

    def clean_topics(self) -> list[dict[str, object]]:
        raw = self.cleaned_data.get("topics") or ""
        topics = []
        for item in (i.strip() for i in raw.split(",")):
            if not item:
                continue
            match = TOPIC_ITEM.match(item)
            if match is None or not 1 <= int(match["min"]) <= 100:
                raise forms.ValidationError(f"Write topics as Travel: 40 (not {item!r}).")
            name = canonical_name(match["topic"])
            if name is None:
                raise forms.ValidationError(f"There is no topic named {match['topic'].strip()!r}.")
            topics.append({"topic": name, "min_score": int(match["min"])})
        return topics

    def clean_tiers(self) -> list[TierInput]:
        raw = self.cleaned_data.get("tiers") or ""
        tiers: list[TierInput] = []
        for number, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            match = TIER_LINE.match(line.strip())
            if match is None or not 1 <= int(match["min"]) <= 100:
                raise forms.ValidationError(
                    f"Line {number}: write name | minimum score (1-100) | reward | stock."
                )
            stock = match["stock"]
            tiers.append(
                TierInput(
                    name=match["name"].strip(),
                    min_score=int(match["min"]),
                    reward=match["reward"].strip(),
                    stock=int(stock) if stock else None,
                )
            )
        if len({t.min_score for t in tiers}) != len(tiers):
            raise forms.ValidationError("Two tiers start at the same score.")
        return tiers

    def clean_image(self) -> tuple[bytes, str] | None:
        upload = self.cleaned_data.get("image")
        if not upload:
            return None
        try:
            stored = reencode_image(upload.read(2 * 1024 * 1024 + 1))
        except BadImage as exc:
            raise forms.ValidationError(str(exc)) from None
        return stored.data, stored.content_type

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", "The end must come after the start.")
        if data.get("kind") == CampaignKind.INVITATION and not data.get("invitation_url"):
            self.add_error("invitation_url", "Invitation campaigns need an early-access link.")
        return data

    def campaign_fields(self) -> dict[str, object]:
        """The cleaned values that are Campaign fields (for services.save_campaign)."""
        skip = {"image", "stock_total", "tiers"}
        return {k: v for k, v in self.cleaned_data.items() if k not in skip}


class CodesForm(forms.Form):
    csv_file = forms.FileField(required=False, label="CSV of codes (first column)")
    generate = forms.IntegerField(required=False, min_value=1, max_value=100_000)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("csv_file") and not data.get("generate"):
            raise forms.ValidationError("Upload a CSV or say how many codes to generate.")
        return data


class RedeemForm(forms.Form):
    csv_file = forms.FileField(required=False, label="Redemption CSV (codes, first column)")
    claim = forms.IntegerField(required=False, widget=forms.HiddenInput)
