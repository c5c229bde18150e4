"""claim_perk: one claim per person, stock held by the database, codes never given twice."""

from __future__ import annotations

import functools
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from perks import stock
from perks.models import Campaign, CampaignKind, CampaignStatus, Claim, ClaimStatus, PerkCode
from perks.services import OUT_OF_STOCK, ClaimRefused, claim_perk
from tests.factories.perks import (
    CampaignFactory,
    CampaignTierFactory,
    add_codes,
    scored_people,
    scored_person,
)
from tests.postgres import needs_postgres

pytestmark = pytest.mark.django_db


def _claim(campaign: Campaign, user_id: int, key: str = "", **kw: object) -> Claim:
    return claim_perk(
        campaign_id=campaign.pk,
        user_id=user_id,
        idempotency_key=key or f"k-{campaign.pk}-{user_id}",
        disclosure_accepted=kw.pop("disclosure_accepted", True),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def test_a_claim_takes_one_of_the_stock_and_reveals_a_code() -> None:
    campaign = CampaignFactory.create(stock_total=3)
    add_codes(campaign, 3)
    alice = scored_person(55)

    claim = _claim(campaign, alice.pk)

    campaign.refresh_from_db()
    assert campaign.stock_left == 2
    assert claim.code is not None
    assert claim.code.code.startswith("CODE-")
    assert claim.code.claimed_at is not None
    assert claim.score == 55


def test_a_double_submit_with_the_same_key_claims_once() -> None:
    campaign = CampaignFactory.create(stock_total=3)
    add_codes(campaign, 3)
    alice = scored_person()

    first = _claim(campaign, alice.pk, key="same")
    second = _claim(campaign, alice.pk, key="same")

    assert first.pk == second.pk
    assert Claim.objects.filter(campaign=campaign).count() == 1
    campaign.refresh_from_db()
    assert campaign.stock_left == 2


def test_a_second_claim_by_the_same_person_is_refused() -> None:
    campaign = CampaignFactory.create(stock_total=3)
    add_codes(campaign, 3)
    alice = scored_person()
    _claim(campaign, alice.pk, key="one")

    with pytest.raises(ClaimRefused, match="you already claimed this perk"):
        _claim(campaign, alice.pk, key="two")

    campaign.refresh_from_db()
    assert campaign.stock_left == 2


def test_someone_elses_idempotency_key_does_not_hand_over_their_claim() -> None:
    campaign = CampaignFactory.create(stock_total=3)
    add_codes(campaign, 3)
    alice, bob = scored_person(), scored_person()
    _claim(campaign, alice.pk, key="k1")

    with pytest.raises(ClaimRefused, match="expired"):
        _claim(campaign, bob.pk, key="k1")


def test_an_ineligible_person_is_told_what_they_lack_and_nothing_is_taken() -> None:
    campaign = CampaignFactory.create(stock_total=3, min_score=40, countries=["CA"])
    add_codes(campaign, 3)
    charlie = scored_person(31, country="CA")

    with pytest.raises(ClaimRefused, match=r"you need a Klout score of 40 \(you have 31\)"):
        _claim(campaign, charlie.pk)

    far = scored_person(60, country="US")
    with pytest.raises(ClaimRefused, match="this perk is for people in Canada"):
        _claim(campaign, far.pk)
    assert not Claim.objects.exists()


def test_the_disclosure_must_be_accepted() -> None:
    campaign = CampaignFactory.create()
    add_codes(campaign, 1)
    alice = scored_person()

    with pytest.raises(ClaimRefused, match="disclosure"):
        _claim(campaign, alice.pk, disclosure_accepted=False)


@pytest.mark.parametrize("status", [CampaignStatus.DRAFT, CampaignStatus.PAUSED])
def test_a_campaign_that_is_not_active_cannot_be_claimed(status: str) -> None:
    campaign = CampaignFactory.create(status=status)
    add_codes(campaign, 1)

    with pytest.raises(ClaimRefused, match="not open"):
        _claim(campaign, scored_person().pk)


def test_the_last_unit_goes_to_one_person_and_the_next_hears_out_of_stock() -> None:
    campaign = CampaignFactory.create(stock_total=1)
    add_codes(campaign, 5)
    alice, bob = scored_person(), scored_person()

    _claim(campaign, alice.pk)
    with pytest.raises(ClaimRefused, match=OUT_OF_STOCK):
        _claim(campaign, bob.pk)

    assert Claim.objects.filter(campaign=campaign).count() == 1


def test_a_tier_with_its_own_stock_runs_out_on_its_own() -> None:
    campaign = CampaignFactory.create(stock_total=10, kind=CampaignKind.INVITATION)
    campaign.invitation_url = "https://example.com/early"
    campaign.save()
    gold = CampaignTierFactory.create(
        campaign=campaign, name="Gold", min_score=80, reward="free", stock_total=1, stock_left=1
    )
    CampaignTierFactory.create(campaign=campaign, name="Bronze", min_score=20, reward="20% off")
    first, second, low = scored_person(90), scored_person(85), scored_person(30)

    granted = _claim(campaign, first.pk)
    with pytest.raises(ClaimRefused, match=OUT_OF_STOCK):
        _claim(campaign, second.pk)
    bronze = _claim(campaign, low.pk)

    assert granted.tier == gold
    assert granted.invitation_token
    assert bronze.tier is not None
    assert bronze.tier.name == "Bronze"


def test_a_physical_perk_needs_an_address() -> None:
    campaign = CampaignFactory.create(kind=CampaignKind.PHYSICAL)
    alice = scored_person()

    with pytest.raises(ClaimRefused, match="address"):
        _claim(campaign, alice.pk)
    claim = _claim(campaign, alice.pk, shipping_address="1 Main St\nToronto")

    assert claim.shipping_address == "1 Main St\nToronto"


def test_applying_to_a_selection_campaign_takes_no_stock() -> None:
    campaign = CampaignFactory.create(kind=CampaignKind.SELECTION, stock_total=2)

    claim = _claim(campaign, scored_person().pk)

    assert claim.status == ClaimStatus.APPLIED
    campaign.refresh_from_db()
    assert campaign.stock_left == 2


# --- concurrency (PostgreSQL) -----------------------------------------------------------------

CLAIMERS = 200
STOCK = 50
WORKERS = 16


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_200_concurrent_claims_on_stock_50_store_exactly_50_and_refuse_the_rest() -> None:
    needs_postgres("row locks and SKIP LOCKED are PostgreSQL's")
    campaign = CampaignFactory.create(stock_total=STOCK)
    add_codes(campaign, STOCK + 20)  # more codes than stock: the stock decides
    people = scored_people(CLAIMERS)
    start = threading.Barrier(WORKERS)
    started = threading.local()

    def attempt(user_id: int) -> str:
        if not getattr(started, "done", False):
            start.wait()
            started.done = True
        try:
            claim = _claim(campaign, user_id)
        except ClaimRefused as exc:
            return f"refused: {exc.reason}"
        return f"code: {claim.code_id}"

    def close_connections() -> None:
        for conn in connections.all():
            conn.close()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        outcomes = list(pool.map(attempt, [p.pk for p in people]))
        list(pool.map(lambda _: close_connections(), range(WORKERS)))

    results = Counter(o.split(":")[0] for o in outcomes)
    assert results == {"code": STOCK, "refused": CLAIMERS - STOCK}
    assert {o for o in outcomes if o.startswith("refused")} == {f"refused: {OUT_OF_STOCK}"}
    campaign.refresh_from_db()
    assert campaign.stock_left == 0
    claims = Claim.objects.filter(campaign=campaign)
    assert claims.count() == STOCK
    codes = list(claims.values_list("code_id", flat=True))
    assert len(set(codes)) == STOCK
    assert None not in codes
    assert PerkCode.objects.filter(campaign=campaign, claimed_at__isnull=False).count() == STOCK


def test_a_refused_second_claim_leaves_no_code_taken() -> None:
    campaign = CampaignFactory.create(stock_total=3)
    add_codes(campaign, 3)
    alice = scored_person()
    _claim(campaign, alice.pk, key="one")

    with pytest.raises(ClaimRefused):
        _claim(campaign, alice.pk, key="two")
    _claim(campaign, alice.pk, key="one")

    assert PerkCode.objects.filter(campaign=campaign, claimed_at__isnull=False).count() == 1


# --- the one-statement write and the plain path store the same rows ---------------------------


def _scenario(fast: bool, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """The same claims on a fresh campaign (tiers with and without their own stock, tier codes,
    more people than stock, a double submit and a second claim), written by one path."""
    monkeypatch.setattr(stock, "record_claim", functools.partial(ORIGINAL_RECORD, fast=fast))
    campaign = CampaignFactory.create(stock_total=4)
    gold = CampaignTierFactory.create(
        campaign=campaign, name="Gold", min_score=80, reward="free", stock_total=1, stock_left=1
    )
    CampaignTierFactory.create(campaign=campaign, name="Bronze", min_score=20, reward="20% off")
    add_codes(campaign, 5)
    PerkCode.objects.create(campaign=campaign, code="GOLD-ONLY", tier=gold)
    people = [scored_person(score) for score in (90, 85, 30, 40, 50, 60)]
    outcomes: list[str | None] = []
    path = "fast" if fast else "plain"
    for index, person in enumerate(people):
        try:
            claim = _claim(campaign, person.pk, key=f"{path}-{index}")
        except ClaimRefused as exc:
            outcomes.append(exc.reason)
        else:
            outcomes.append(f"code {claim.code.code.split('-')[-1] if claim.code else None}")
    double = _claim(campaign, people[0].pk, key=f"{path}-0")
    outcomes.append(double.code.code.split("-")[-1] if double.code else None)
    with pytest.raises(ClaimRefused) as again:
        _claim(campaign, people[0].pk, key=f"{path}-other")
    outcomes.append(again.value.reason)
    rows = [
        (people.index(c.user), c.tier.name if c.tier else "", c.status, c.score)
        for c in Claim.objects.filter(campaign=campaign)
        .select_related("user", "tier")
        .order_by("pk")
    ]
    gold.refresh_from_db()
    return {
        "outcomes": outcomes,
        "rows": rows,
        "codes_taken": sorted(
            code.split("-")[-1]
            for code in campaign.codes.filter(claimed_at__isnull=False).values_list(
                "code", flat=True
            )
        ),
        "claims_with_codes": Claim.objects.filter(campaign=campaign, code__isnull=False).count(),
        "stock_left": campaign.stock_left,
        "gold_left": gold.stock_left,
    }


ORIGINAL_RECORD = stock.record_claim


@pytest.mark.postgres
def test_the_one_statement_write_stores_what_the_plain_path_stores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    needs_postgres("the one-statement write is PostgreSQL's")

    fast = _scenario(True, monkeypatch)
    plain = _scenario(False, monkeypatch)

    assert fast == plain
    assert fast["stock_left"] == 0
    assert fast["gold_left"] == 0
    assert fast["claims_with_codes"] == 4
    assert OUT_OF_STOCK in fast["outcomes"]  # type: ignore[operator]
