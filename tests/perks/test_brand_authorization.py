"""Every brand page and action: strangers (another brand's member, a plain person) get 404, and
each role is refused (403) what it may not do."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from perks.models import AuditEntry, Brand, Campaign, CampaignStatus, Claim
from tests.factories.perks import scored_person

pytestmark = pytest.mark.django_db

# (name, method, url args builder, data, least role allowed)
OWNER, MANAGER, ANALYST = "owner", "manager", "analyst"


def _endpoints(campaign: Campaign) -> list[tuple[str, str, str, dict[str, Any], str]]:
    slug, pk = campaign.brand.slug, campaign.pk
    analyst = campaign.brand.memberships.filter(role="analyst").values_list("pk", flat=True)
    member = analyst.first() or 0
    return [
        ("dashboard", "get", reverse("brand_dashboard", args=[slug]), {}, ANALYST),
        ("campaign", "get", reverse("brand_campaign", args=[slug, pk]), {}, ANALYST),
        ("preview", "get", reverse("campaign_preview", args=[slug]), {"min_score": 10}, ANALYST),
        ("export", "get", reverse("campaign_export", args=[slug, pk]), {}, ANALYST),
        ("members", "get", reverse("brand_members", args=[slug]), {}, ANALYST),
        ("audit", "get", reverse("brand_audit", args=[slug]), {}, OWNER),
        ("new form", "get", reverse("campaign_new", args=[slug]), {}, MANAGER),
        ("edit form", "get", reverse("campaign_edit", args=[slug, pk]), {}, MANAGER),
        (
            "status",
            "post",
            reverse("campaign_status", args=[slug, pk]),
            {"status": CampaignStatus.PAUSED},
            MANAGER,
        ),
        ("codes", "post", reverse("campaign_codes", args=[slug, pk]), {"generate": 3}, MANAGER),
        ("redeem", "post", reverse("campaign_redeem", args=[slug, pk]), {"claim": 1}, MANAGER),
        ("draw", "post", reverse("campaign_draw", args=[slug, pk]), {}, MANAGER),
        ("pick", "post", reverse("campaign_pick", args=[slug, pk]), {"claim": 1}, MANAGER),
        (
            "invite",
            "post",
            reverse("brand_members", args=[slug]),
            {"email": "new@example.com", "role": "analyst"},
            OWNER,
        ),
        (
            "change role",
            "post",
            reverse("brand_members", args=[slug]),
            {"member": member, "role": "owner"},
            OWNER,
        ),
        ("remove member", "post", reverse("brand_members", args=[slug]), {"remove": member}, OWNER),
    ]


RANK = {ANALYST: 1, MANAGER: 2, OWNER: 3}


@pytest.mark.parametrize("stranger", ["other_brand", "person"])
def test_strangers_get_404_on_every_brand_page_and_action(
    acme_campaign: Campaign, clients: dict[str, Client], stranger: str
) -> None:
    before = AuditEntry.objects.count()
    for name, method, url, data, _least in _endpoints(acme_campaign):
        response = getattr(clients[stranger], method)(url, data)
        assert response.status_code == 404, f"{stranger} on {name}: {response.status_code}"
    acme_campaign.refresh_from_db()
    assert acme_campaign.status == CampaignStatus.ACTIVE
    assert acme_campaign.codes.count() == 5
    assert AuditEntry.objects.count() == before
    assert sorted(acme_campaign.brand.memberships.values_list("role", flat=True)) == [
        ANALYST,
        MANAGER,
        OWNER,
    ]


@pytest.mark.parametrize("role", [ANALYST, MANAGER])
def test_each_role_is_refused_what_it_may_not_do(
    acme_campaign: Campaign, clients: dict[str, Client], role: str
) -> None:
    refused = [e for e in _endpoints(acme_campaign) if RANK[e[4]] > RANK[role]]
    assert refused
    for name, method, url, data, _least in refused:
        response = getattr(clients[role], method)(url, data)
        assert response.status_code == 403, f"{role} on {name}: {response.status_code}"
    acme_campaign.refresh_from_db()
    assert acme_campaign.status == CampaignStatus.ACTIVE
    assert acme_campaign.codes.count() == 5
    assert not acme_campaign.brand.invitations.exists()
    assert sorted(acme_campaign.brand.memberships.values_list("role", flat=True)) == [
        ANALYST,
        MANAGER,
        OWNER,
    ]


@pytest.mark.parametrize("role", [ANALYST, MANAGER, OWNER])
def test_each_role_may_read_what_its_role_allows(
    acme_campaign: Campaign, clients: dict[str, Client], role: str
) -> None:
    allowed = [e for e in _endpoints(acme_campaign) if RANK[e[4]] <= RANK[role] and e[1] == "get"]
    for name, _method, url, data, _least in allowed:
        response = clients[role].get(url, data)
        assert response.status_code == 200, f"{role} on {name}: {response.status_code}"


def test_a_manager_pauses_and_the_audit_log_says_who(
    acme_campaign: Campaign, clients: dict[str, Client]
) -> None:
    url = reverse("campaign_status", args=["acme", acme_campaign.pk])

    response = clients[MANAGER].post(url, {"status": CampaignStatus.PAUSED})

    assert response.status_code == 302
    acme_campaign.refresh_from_db()
    assert acme_campaign.status == CampaignStatus.PAUSED
    entry = AuditEntry.objects.filter(brand=acme_campaign.brand).latest("created_at")
    assert entry.action == "campaign.paused"
    assert entry.detail == {"campaign_id": acme_campaign.pk}


def test_another_brands_campaign_id_under_our_slug_is_404(
    acme_campaign: Campaign, clients: dict[str, Client]
) -> None:
    """A member of globex cannot reach Acme's campaign through globex's own slug."""
    url = reverse("brand_campaign", args=["globex", acme_campaign.pk])

    assert clients["other_brand"].get(url).status_code == 404
    post = reverse("campaign_status", args=["globex", acme_campaign.pk])
    assert clients["other_brand"].post(post, {"status": "ended"}).status_code == 404


def test_the_export_streams_claims_as_csv(
    acme_campaign: Campaign, clients: dict[str, Client]
) -> None:
    from perks.services import claim_perk

    alice = scored_person(62, country="CA")
    claim_perk(
        campaign_id=acme_campaign.pk,
        user_id=alice.pk,
        idempotency_key="x",
        disclosure_accepted=True,
    )

    response = clients[ANALYST].get(reverse("campaign_export", args=["acme", acme_campaign.pk]))

    assert response.streaming
    lines = b"".join(response.streaming_content).decode().splitlines()  # type: ignore[attr-defined]
    assert lines[0].startswith("claim,claimed_at,status")
    claim = Claim.objects.get()
    assert lines[1].startswith(f"{claim.pk},")
    assert ",62,CA," in lines[1]
    assert claim.code is not None
    assert claim.code.code in lines[1]


def _queries(client: Client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_brand_list_pages_cost_the_same_queries_for_few_or_many_rows(
    acme_campaign: Campaign, clients: dict[str, Client]
) -> None:
    from perks.services import audit
    from tests.factories.perks import CampaignFactory, MembershipFactory

    owner = clients[OWNER]
    urls = [
        reverse("brand_dashboard", args=["acme"]),
        reverse("brand_audit", args=["acme"]),
        reverse("brand_members", args=["acme"]),
        reverse("brand_campaign", args=["acme", acme_campaign.pk]),
    ]
    _queries(owner, urls[0])
    before = [_queries(owner, url) for url in urls]
    for _ in range(4):
        CampaignFactory.create(brand=acme_campaign.brand)
        MembershipFactory.create(brand=acme_campaign.brand, role="analyst")
        audit(brand_id=acme_campaign.brand_id, actor_id=None, action="test.entry")
    for i in range(4):
        from perks.services import claim_perk

        claim_perk(
            campaign_id=acme_campaign.pk,
            user_id=scored_person().pk,
            idempotency_key=f"q{i}",
            disclosure_accepted=True,
        )

    after = [_queries(owner, url) for url in urls]

    assert after == before


def test_a_manager_picks_winners_by_ticking_applicants(
    acme: Brand, clients: dict[str, Client]
) -> None:
    from perks.services import claim_perk
    from tests.factories.perks import CampaignFactory

    campaign = CampaignFactory.create(brand=acme, kind="selection", stock_total=1)
    claims = [
        claim_perk(
            campaign_id=campaign.pk,
            user_id=scored_person().pk,
            idempotency_key=f"p{i}",
            disclosure_accepted=True,
        )
        for i in range(2)
    ]
    page = clients[MANAGER].get(reverse("brand_campaign", args=["acme", campaign.pk]))
    assert f'name="claim" value="{claims[1].pk}"' in page.content.decode()

    clients[MANAGER].post(
        reverse("campaign_pick", args=["acme", campaign.pk]), {"claim": [claims[1].pk]}
    )

    statuses = dict(Claim.objects.values_list("pk", "status"))
    assert statuses == {claims[0].pk: "not_selected", claims[1].pk: "won"}


# --- members: roles ---------------------------------------------------------------------------


def test_a_manager_cannot_promote_themself_to_owner(
    acme: Brand, clients: dict[str, Client]
) -> None:
    manager = acme.memberships.get(role=MANAGER)

    response = clients[MANAGER].post(
        reverse("brand_members", args=[acme.slug]), {"member": manager.pk, "role": OWNER}
    )

    assert response.status_code == 403
    manager.refresh_from_db()
    assert manager.role == MANAGER


def test_an_owner_changes_a_role_and_the_audit_log_says_from_what_to_what(
    acme: Brand, clients: dict[str, Client]
) -> None:
    analyst = acme.memberships.get(role=ANALYST)
    owner = acme.memberships.get(role=OWNER)

    response = clients[OWNER].post(
        reverse("brand_members", args=[acme.slug]), {"member": analyst.pk, "role": MANAGER}
    )

    assert response.status_code == 302
    analyst.refresh_from_db()
    assert analyst.role == MANAGER
    entry = AuditEntry.objects.filter(brand=acme).latest("created_at")
    assert entry.action == "member.role_changed"
    assert entry.actor_id == owner.user_id
    assert entry.detail == {"user_id": analyst.user_id, "before": ANALYST, "after": MANAGER}


def test_the_last_owner_can_neither_step_down_nor_leave_through_the_page(
    acme: Brand, clients: dict[str, Client]
) -> None:
    owner = acme.memberships.get(role=OWNER)
    url = reverse("brand_members", args=[acme.slug])

    demoted = clients[OWNER].post(url, {"member": owner.pk, "role": ANALYST}, follow=True)
    removed = clients[OWNER].post(url, {"remove": owner.pk}, follow=True)

    owner.refresh_from_db()
    assert owner.role == OWNER
    assert b"A brand needs an owner" in demoted.content
    assert b"A brand needs an owner" in removed.content


def test_an_owner_cannot_reach_another_brands_member_through_their_own_slug(
    acme: Brand, clients: dict[str, Client]
) -> None:
    """globex's owner posts Acme's analyst's membership id to globex's members page."""
    analyst = acme.memberships.get(role=ANALYST)
    url = reverse("brand_members", args=["globex"])

    clients["other_brand"].post(url, {"member": analyst.pk, "role": OWNER})
    clients["other_brand"].post(url, {"remove": analyst.pk})

    analyst.refresh_from_db()
    assert analyst.role == ANALYST


def test_the_audit_log_pages_back_to_the_oldest_entry(
    acme_campaign: Campaign, clients: dict[str, Client]
) -> None:
    from perks.brand_views import AUDIT_PAGE_SIZE
    from perks.services import audit

    for i in range(AUDIT_PAGE_SIZE + 150):
        audit(brand_id=acme_campaign.brand_id, actor_id=None, action=f"test.entry-{i:04d}")
    oldest = AuditEntry.objects.filter(brand_id=acme_campaign.brand_id).order_by("created_at", "pk")
    url = reverse("brand_audit", args=["acme"])
    assert oldest.count() <= 3 * AUDIT_PAGE_SIZE

    first = clients[OWNER].get(url).content.decode()
    second = clients[OWNER].get(url, {"page": 2}).content.decode()
    third = clients[OWNER].get(url, {"page": 3}).content.decode()

    assert f"test.entry-{AUDIT_PAGE_SIZE + 149:04d}" in first
    assert 'href="?page=2"' in first
    first_entry = oldest.first()
    assert first_entry is not None
    assert first_entry.action in third
    assert first_entry.action not in first + second
    assert 'href="?page=4"' not in third


def test_uploading_no_redemption_file_says_to_choose_one(
    acme_campaign: Campaign, clients: dict[str, Client]
) -> None:
    url = reverse("campaign_redeem", args=["acme", acme_campaign.pk])

    page = clients[MANAGER].post(url, {}, follow=True).content.decode()

    assert "Choose a CSV file of used codes" in page
    assert "marked as used" not in page
