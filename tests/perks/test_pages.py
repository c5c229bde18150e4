"""People's perk pages: qualifying and not (with reasons), the claim flow, my perks."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from perks.models import CampaignKind, CampaignStatus, CampaignView, Claim
from tests.factories.perks import CampaignFactory, add_codes, scored_person

pytestmark = pytest.mark.django_db


def _client(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_the_perks_page_splits_what_i_qualify_for_from_what_i_lack() -> None:
    alice = scored_person(45, country="US")
    CampaignFactory.create(title="Open to all")
    CampaignFactory.create(title="Canada only", countries=["CA"])
    CampaignFactory.create(title="High flyers", min_score=60)
    CampaignFactory.create(title="Still a draft", status=CampaignStatus.DRAFT)

    page = _client(alice).get(reverse("perks")).content.decode()

    qualifying, others = page.split('id="others"')
    assert "Open to all" in qualifying
    assert "Canada only" in others
    assert "This perk is for people in Canada" in others
    assert "You need a Klout score of 60 (you have 45)" in others
    assert "Still a draft" not in page


def test_the_perks_page_costs_the_same_queries_for_one_or_many_campaigns() -> None:
    alice = scored_person(45)
    client = _client(alice)
    CampaignFactory.create()
    client.get(reverse("perks"))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("perks"))
    for _ in range(6):
        CampaignFactory.create(countries=["CA"], min_score=10)

    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("perks"))

    assert response.status_code == 200
    assert len(many) == len(one)


def test_claiming_through_the_page_reveals_the_code_and_a_resubmit_claims_once() -> None:
    alice = scored_person(50)
    campaign = CampaignFactory.create(stock_total=2)
    add_codes(campaign, 2)
    client = _client(alice)
    detail = client.get(reverse("perk_detail", args=[campaign.pk]))
    assert campaign.disclosure in detail.content.decode()
    key = detail.context["idempotency_key"]
    form = {"idempotency_key": key, "disclosure": "on"}

    first = client.post(reverse("perk_claim", args=[campaign.pk]), form, HTTP_HX_REQUEST="true")
    again = client.post(reverse("perk_claim", args=[campaign.pk]), form, HTTP_HX_REQUEST="true")

    claim = Claim.objects.get()
    assert claim.code is not None
    assert claim.code.code in first.content.decode()
    assert claim.code.code in again.content.decode()
    assert CampaignView.objects.filter(campaign=campaign, user=alice).count() == 1
    mine = client.get(reverse("my_perks")).content.decode()
    assert claim.code.code in mine


def test_out_of_stock_is_said_plainly_not_a_server_error() -> None:
    campaign = CampaignFactory.create(stock_total=1)
    add_codes(campaign, 1)
    first, second = scored_person(), scored_person()
    url = reverse("perk_claim", args=[campaign.pk])
    _client(first).post(url, {"idempotency_key": "a", "disclosure": "on"})

    response = _client(second).post(
        url, {"idempotency_key": "b", "disclosure": "on"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert "Out of stock." in response.content.decode()
    assert Claim.objects.count() == 1


def test_without_accepting_the_disclosure_nothing_is_claimed() -> None:
    campaign = CampaignFactory.create()
    add_codes(campaign, 1)
    alice = scored_person()

    response = _client(alice).post(
        reverse("perk_claim", args=[campaign.pk]), {"idempotency_key": "a"}, follow=True
    )

    assert "Read and accept the disclosure first." in response.content.decode()
    assert not Claim.objects.exists()


def test_a_draft_campaign_is_not_found_by_people() -> None:
    campaign = CampaignFactory.create(status=CampaignStatus.DRAFT)

    client = _client(scored_person())
    assert client.get(reverse("perk_detail", args=[campaign.pk])).status_code == 404
    assert client.post(reverse("perk_claim", args=[campaign.pk]), {}).status_code == 404


def test_my_perks_shows_only_my_claims_in_a_fixed_number_of_queries() -> None:
    alice, bob = scored_person(), scored_person()
    for _ in range(3):
        campaign = CampaignFactory.create(kind=CampaignKind.INVITATION)
        campaign.invitation_url = "https://example.com/early"
        campaign.save()
        for person in (alice, bob):
            Claim.objects.create(
                campaign=campaign,
                user=person,
                idempotency_key=f"{campaign.pk}-{person.pk}",
                invitation_token=f"tok-{person.pk}-{campaign.pk}",
                disclosure_accepted_at=campaign.created_at,
            )
    client = _client(alice)

    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("my_perks")).content.decode()

    assert page.count(f"tok-{alice.pk}-") == 3
    assert f"tok-{bob.pk}-" not in page
    assert len(queries) <= 8


@pytest.mark.parametrize(
    ("url", "link"),
    [
        ("https://example.com/early", "https://example.com/early?invite=tok"),
        ("https://example.com/early?ref=klout", "https://example.com/early?ref=klout&invite=tok"),
    ],
)
def test_the_personal_early_access_link_keeps_the_brands_own_query(url: str, link: str) -> None:
    campaign = CampaignFactory.create(kind=CampaignKind.INVITATION, invitation_url=url)

    claim = Claim(campaign=campaign, invitation_token="tok")

    assert claim.invitation_link == link
    assert Claim(campaign=campaign).invitation_link == ""
