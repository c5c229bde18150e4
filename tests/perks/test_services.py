"""Brand and campaign write paths: members, lifecycle, codes, selection, redemption, purges."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from PIL import Image

from accounts.models import Notification
from perks import services
from perks.images import BadImage, reencode_image
from perks.models import (
    AuditEntry,
    Campaign,
    CampaignKind,
    CampaignStatus,
    Claim,
    ClaimStatus,
    Membership,
    Role,
)
from perks.services import PerkError
from tests.factories.accounts import UserFactory
from tests.factories.perks import (
    CampaignFactory,
    CampaignTierFactory,
    MembershipFactory,
    add_codes,
    scored_person,
)

pytestmark = pytest.mark.django_db


def _apply(campaign: Campaign, n: int) -> list[Claim]:
    return [
        services.claim_perk(
            campaign_id=campaign.pk,
            user_id=scored_person().pk,
            idempotency_key=f"apply-{campaign.pk}-{i}",
            disclosure_accepted=True,
        )
        for i in range(n)
    ]


# --- brands and members -----------------------------------------------------------------------


def test_registering_a_brand_makes_the_person_its_owner_and_waits_for_staff() -> None:
    alice = UserFactory.create()

    brand = services.create_brand(user_id=alice.pk, name="  Acme   Outdoors ")

    assert brand.name == "Acme Outdoors"
    assert brand.slug == "acme-outdoors"
    assert not brand.is_approved
    assert Membership.objects.get(brand=brand).role == Role.OWNER
    assert AuditEntry.objects.get(brand=brand).action == "brand.created"
    second = services.create_brand(user_id=alice.pk, name="Acme Outdoors")
    assert second.slug == "acme-outdoors-2"


def test_an_unapproved_brand_cannot_activate_a_campaign_until_staff_approve_it() -> None:
    owner = MembershipFactory.create(brand__approved_at=None)
    campaign = CampaignFactory.create(brand=owner.brand, status=CampaignStatus.DRAFT)
    add_codes(campaign, 3)
    staff = UserFactory.create(is_staff=True)

    with pytest.raises(PerkError, match="not approved"):
        services.change_campaign_status(
            campaign_id=campaign.pk, actor_id=owner.user_id, status=CampaignStatus.ACTIVE
        )
    services.approve_brand(brand_id=owner.brand_id, staff_id=staff.pk)
    services.change_campaign_status(
        campaign_id=campaign.pk, actor_id=owner.user_id, status=CampaignStatus.ACTIVE
    )

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE
    assert Notification.objects.filter(user=owner.user, kind="brand_approved").exists()


def test_an_invitation_is_mailed_and_accepted_only_by_the_invited_address(
    django_capture_on_commit_callbacks: Any,
) -> None:
    owner = MembershipFactory.create()
    invited = UserFactory.create(email="new@example.com")
    stranger = UserFactory.create()

    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invite_member(
            brand_id=owner.brand_id,
            actor_id=owner.user_id,
            email="NEW@example.com",
            role=Role.ANALYST,
        )

    assert mail.outbox[-1].to == ["new@example.com"]
    assert invitation.token in mail.outbox[-1].body
    with pytest.raises(PerkError, match=r"for new@example\.com"):
        services.accept_invitation(token=invitation.token, user_id=stranger.pk)
    membership = services.accept_invitation(token=invitation.token, user_id=invited.pk)
    assert membership.role == Role.ANALYST
    with pytest.raises(PerkError, match="not valid"):
        services.accept_invitation(token=invitation.token, user_id=invited.pk)


def test_the_last_owner_cannot_be_removed() -> None:
    owner = MembershipFactory.create()

    with pytest.raises(PerkError, match="needs an owner"):
        services.remove_member(
            brand_id=owner.brand_id, actor_id=owner.user_id, membership_id=owner.pk
        )
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_an_owner_hands_over_ownership_then_steps_down() -> None:
    owner = MembershipFactory.create()
    manager = MembershipFactory.create(brand=owner.brand, role=Role.MANAGER)

    services.change_member_role(
        brand_id=owner.brand_id, actor_id=owner.user_id, membership_id=manager.pk, role=Role.OWNER
    )
    services.change_member_role(
        brand_id=owner.brand_id, actor_id=owner.user_id, membership_id=owner.pk, role=Role.ANALYST
    )

    owner.refresh_from_db()
    manager.refresh_from_db()
    assert (owner.role, manager.role) == (Role.ANALYST, Role.OWNER)
    actions = list(
        AuditEntry.objects.filter(brand=owner.brand)
        .order_by("pk")
        .values_list("action", "detail__after")
    )
    assert actions == [("member.role_changed", "owner"), ("member.role_changed", "analyst")]


def test_the_last_owner_cannot_be_demoted() -> None:
    owner = MembershipFactory.create()

    with pytest.raises(PerkError, match="needs an owner"):
        services.change_member_role(
            brand_id=owner.brand_id, actor_id=owner.user_id, membership_id=owner.pk, role="manager"
        )
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ANALYST])
def test_only_owners_change_roles_or_remove_members(role: str) -> None:
    owner = MembershipFactory.create()
    member = MembershipFactory.create(brand=owner.brand, role=role)

    with pytest.raises(PerkError, match="Only an owner"):
        services.change_member_role(
            brand_id=owner.brand_id, actor_id=member.user_id, membership_id=member.pk, role="owner"
        )
    with pytest.raises(PerkError, match="Only an owner"):
        services.remove_member(
            brand_id=owner.brand_id, actor_id=member.user_id, membership_id=owner.pk
        )
    member.refresh_from_db()
    assert member.role == role
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_a_role_must_be_one_of_the_three() -> None:
    owner = MembershipFactory.create()

    with pytest.raises(PerkError, match="Choose a role"):
        services.change_member_role(
            brand_id=owner.brand_id, actor_id=owner.user_id, membership_id=owner.pk, role="admin"
        )


# --- lifecycle --------------------------------------------------------------------------------


def test_states_go_draft_scheduled_active_paused_active_ended_and_never_back() -> None:
    campaign = CampaignFactory.create(
        status=CampaignStatus.DRAFT, starts_at=timezone.now(), announced_at=None
    )
    add_codes(campaign, 3)
    actor = MembershipFactory.create(brand=campaign.brand).user_id

    for status in ["scheduled", "active", "paused", "active", "ended"]:
        services.change_campaign_status(campaign_id=campaign.pk, actor_id=actor, status=status)
        campaign.refresh_from_db()
        assert campaign.status == status
    with pytest.raises(PerkError, match="cannot become active"):
        services.change_campaign_status(campaign_id=campaign.pk, actor_id=actor, status="active")
    assert campaign.ended_at is not None
    actions = list(AuditEntry.objects.filter(brand=campaign.brand).values_list("action", flat=True))
    assert actions.count("campaign.active") == 2


def test_a_code_campaign_without_codes_cannot_start() -> None:
    campaign = CampaignFactory.create(status=CampaignStatus.DRAFT)

    with pytest.raises(PerkError, match="codes first"):
        services.change_campaign_status(campaign_id=campaign.pk, actor_id=None, status="active")


def test_the_beat_task_starts_scheduled_campaigns_and_ends_finished_ones() -> None:
    now = timezone.now()
    due = CampaignFactory.create(
        status=CampaignStatus.SCHEDULED, starts_at=now - dt.timedelta(minutes=1)
    )
    later = CampaignFactory.create(
        status=CampaignStatus.SCHEDULED, starts_at=now + dt.timedelta(hours=1)
    )
    over = CampaignFactory.create(ends_at=now - dt.timedelta(minutes=1))
    for campaign in (due, later):
        add_codes(campaign, 1, prefix=f"C{campaign.pk}")

    counts = services.advance_campaigns(now=now)

    assert counts == {"started": 1, "ended": 1}
    statuses = dict(Campaign.objects.values_list("pk", "status"))
    assert statuses == {due.pk: "active", later.pk: "scheduled", over.pk: "ended"}


def test_editing_the_stock_keeps_what_was_given() -> None:
    campaign = CampaignFactory.create(stock_total=5)
    add_codes(campaign, 5)
    services.claim_perk(
        campaign_id=campaign.pk,
        user_id=scored_person().pk,
        idempotency_key="one",
        disclosure_accepted=True,
    )
    actor = MembershipFactory.create(brand=campaign.brand).user_id

    services.save_campaign(
        brand_id=campaign.brand_id,
        actor_id=actor,
        campaign_id=campaign.pk,
        fields={"title": "Renamed"},
        stock_total=8,
    )

    campaign.refresh_from_db()
    assert (campaign.title, campaign.stock_total, campaign.stock_left) == ("Renamed", 8, 7)
    with pytest.raises(PerkError, match="1 already claimed"):
        services.save_campaign(
            brand_id=campaign.brand_id,
            actor_id=actor,
            campaign_id=campaign.pk,
            fields={},
            stock_total=0,
        )


# --- codes ------------------------------------------------------------------------------------


def test_a_codes_csv_is_read_from_its_first_column_and_repeats_are_skipped() -> None:
    campaign = CampaignFactory.create()
    codes = services.parse_codes_csv(b"\xef\xbb\xbfcode,note\nAAA,first\nBBB\n\nAAA,again\n")

    added = services.add_codes(campaign_id=campaign.pk, actor_id=None, codes=codes)

    assert codes == ["AAA", "BBB", "AAA"]
    assert added == 2
    assert services.add_codes(campaign_id=campaign.pk, actor_id=None, codes=["BBB", "CCC"]) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "no codes"), (b"\xff\xfe\x00", "not UTF-8"), (b"x" * 101 + b"\n", "at most 100")],
)
def test_a_bad_codes_csv_is_refused_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(PerkError, match=message):
        services.parse_codes_csv(data)


def test_generated_codes_are_unique() -> None:
    campaign = CampaignFactory.create()

    assert services.generate_codes(campaign_id=campaign.pk, actor_id=None, count=500) == 500
    codes = list(campaign.codes.values_list("code", flat=True))
    assert len(set(codes)) == 500


# --- selection, redemption, addresses ---------------------------------------------------------


def test_a_random_draw_is_reproducible_from_its_recorded_seed_and_everyone_is_told(
    django_capture_on_commit_callbacks: Any,
) -> None:
    first = CampaignFactory.create(kind=CampaignKind.SELECTION, stock_total=2)
    second = CampaignFactory.create(kind=CampaignKind.SELECTION, stock_total=2)
    one, two = _apply(first, 5), _apply(second, 5)
    actor = MembershipFactory.create(brand=first.brand).user_id

    with django_capture_on_commit_callbacks(execute=True):
        winners = services.draw_winners(campaign_id=first.pk, actor_id=actor, seed="s33d")
        again = services.draw_winners(campaign_id=second.pk, actor_id=actor, seed="s33d")

    first.refresh_from_db()
    assert first.draw_seed == "s33d"
    assert first.stock_left == 0
    positions = sorted(one.index(next(c for c in one if c.pk == w.pk)) for w in winners)
    assert positions == sorted(two.index(next(c for c in two if c.pk == w.pk)) for w in again)
    statuses = sorted(Claim.objects.filter(campaign=first).values_list("status", flat=True))
    assert statuses == ["not_selected"] * 3 + ["won"] * 2
    told = Notification.objects.filter(kind="perk_selection", user__perk_claims__campaign=first)
    assert told.count() == 5
    titles = sorted(told.values_list("title", flat=True))
    assert titles.count(f"You were selected for {first.title}") == 2
    assert titles.count(f"You were not selected for {first.title} this time") == 3
    with pytest.raises(PerkError, match="already chosen"):
        services.draw_winners(campaign_id=first.pk, actor_id=actor)


def test_brands_mark_claims_used_by_claim_or_by_redemption_csv() -> None:
    campaign = CampaignFactory.create(stock_total=3)
    add_codes(campaign, 3)
    claims = [
        services.claim_perk(
            campaign_id=campaign.pk,
            user_id=scored_person().pk,
            idempotency_key=f"r{i}",
            disclosure_accepted=True,
        )
        for i in range(3)
    ]
    assert claims[1].code is not None
    csv = f"code\n{claims[1].code.code}\nUNKNOWN\n".encode()

    by_claim = services.mark_redeemed(
        campaign_id=campaign.pk, actor_id=None, claim_ids=[claims[0].pk]
    )
    by_csv = services.mark_redeemed(
        campaign_id=campaign.pk, actor_id=None, codes=services.parse_codes_csv(csv)
    )

    assert (by_claim, by_csv) == (1, 1)
    used = Claim.objects.filter(redeemed_at__isnull=False).values_list("pk", flat=True)
    assert set(used) == {claims[0].pk, claims[1].pk}


def test_shipping_addresses_are_deleted_30_days_after_the_end() -> None:
    campaign = CampaignFactory.create(kind=CampaignKind.PHYSICAL)
    claim = services.claim_perk(
        campaign_id=campaign.pk,
        user_id=scored_person().pk,
        idempotency_key="ship",
        disclosure_accepted=True,
        shipping_address="1 Main St",
    )
    ended = timezone.now()
    services.change_campaign_status(
        campaign_id=campaign.pk, actor_id=None, status="ended", now=ended
    )

    assert services.purge_shipping_addresses(now=ended + dt.timedelta(days=29)) == 0
    claim.refresh_from_db()
    assert claim.shipping_address == "1 Main St"
    assert services.purge_shipping_addresses(now=ended + dt.timedelta(days=30)) == 1
    claim.refresh_from_db()
    assert claim.shipping_address == ""


# --- images -----------------------------------------------------------------------------------


def _png(size: tuple[int, int] = (2000, 1000)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def test_an_image_is_re_encoded_and_shrunk() -> None:
    stored = reencode_image(_png())

    assert stored.content_type == "image/jpeg"
    with Image.open(io.BytesIO(stored.data)) as image:
        assert image.format == "JPEG"
        assert image.size == (1200, 600)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not an image"),
        (b"GIF89a" + b"\x00" * 3 * 1024 * 1024, "larger than 2 MB"),
    ],
)
def test_a_bad_image_is_refused_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(BadImage, match=message):
        reencode_image(data)


def test_a_bmp_is_refused_even_though_pillow_reads_it() -> None:
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="BMP")

    with pytest.raises(BadImage, match="JPEG, PNG, WebP or GIF"):
        reencode_image(out.getvalue())


# --- announcements ----------------------------------------------------------------------------


def test_a_new_perk_is_announced_once_to_the_people_who_qualify(
    django_capture_on_commit_callbacks: Any,
) -> None:
    from perks.audience import rebuild_audience

    fits = scored_person(60, country="CA")
    too_low = scored_person(20, country="CA")
    elsewhere = scored_person(70, country="US")
    rebuild_audience()
    campaign = CampaignFactory.create(
        status=CampaignStatus.DRAFT, min_score=40, countries=["CA"], announced_at=None
    )
    add_codes(campaign, 2)

    with django_capture_on_commit_callbacks(execute=True):
        for status in ("active", "paused", "active"):
            services.change_campaign_status(campaign_id=campaign.pk, actor_id=None, status=status)

    told = Notification.objects.filter(kind="perk_opened")
    assert list(told.values_list("user_id", flat=True)) == [fits.pk]
    assert campaign.title in told.get().title
    assert not Notification.objects.filter(user__in=[too_low, elsewhere]).exists()


def test_the_announcement_goes_through_the_pipeline_and_by_e_mail_to_who_asked(
    django_capture_on_commit_callbacks: Any,
) -> None:
    from accounts.models import NotificationPreference
    from perks.audience import rebuild_audience

    wants_mail = scored_person(85, country="CA")
    app_only = scored_person(50, country="CA")
    muted = scored_person(60, country="CA")
    NotificationPreference.objects.create(user=wants_mail, perk_email=True)
    NotificationPreference.objects.create(user=muted, in_app=False, perk_email=True)
    rebuild_audience()
    campaign = CampaignFactory.create(
        status=CampaignStatus.DRAFT, min_score=40, countries=["CA"], announced_at=None
    )
    CampaignTierFactory.create(campaign=campaign, name="Bronze", min_score=40, reward="20% off")
    CampaignTierFactory.create(campaign=campaign, name="Gold", min_score=80, reward="A free jacket")
    add_codes(campaign, 2)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.change_campaign_status(campaign_id=campaign.pk, actor_id=None, status="active")

    told = Notification.objects.filter(kind="perk_opened").order_by("user_id")
    assert list(told.values_list("user_id", flat=True)) == sorted([wants_mail.pk, app_only.pk])
    assert "Yours: A free jacket." in told.get(user=wants_mail).body
    assert "Yours: 20% off." in told.get(user=app_only).body
    assert [m.to for m in mail.outbox] == [[wants_mail.email]]
    assert campaign.title in mail.outbox[0].subject
    assert told.get(user=wants_mail).emailed_at is not None
    assert told.get(user=app_only).emailed_at is None
    # A redelivered task (the mark cleared by hand) tells and mails nobody again.
    Campaign.objects.filter(pk=campaign.pk).update(announced_at=None)
    assert services.announce_campaign(campaign_id=campaign.pk) == 0
    assert len(mail.outbox) == 1


def test_selection_results_are_e_mailed_to_who_asked(
    django_capture_on_commit_callbacks: Any,
) -> None:
    from accounts.models import NotificationPreference

    campaign = CampaignFactory.create(kind=CampaignKind.SELECTION, stock_total=1)
    winner, other = _apply(campaign, 2)
    for claim in (winner, other):
        NotificationPreference.objects.create(user_id=claim.user_id, perk_email=True)
    actor = MembershipFactory.create(brand=campaign.brand).user_id
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.pick_winners(campaign_id=campaign.pk, actor_id=actor, claim_ids=[winner.pk])

    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects == {
        winner.user.email: f"You were selected for {campaign.title}",
        other.user.email: f"You were not selected for {campaign.title} this time",
    }


def test_a_brand_picks_winners_by_hand_but_no_more_than_the_stock() -> None:
    campaign = CampaignFactory.create(kind=CampaignKind.SELECTION, stock_total=1)
    applied = _apply(campaign, 3)
    actor = MembershipFactory.create(brand=campaign.brand).user_id

    with pytest.raises(PerkError, match="Only 1 left"):
        services.pick_winners(
            campaign_id=campaign.pk, actor_id=actor, claim_ids=[c.pk for c in applied[:2]]
        )
    winners = services.pick_winners(
        campaign_id=campaign.pk, actor_id=actor, claim_ids=[applied[2].pk]
    )

    assert [w.pk for w in winners] == [applied[2].pk]
    assert campaign.stock_left == 0
    assert Claim.objects.filter(status=ClaimStatus.NOT_SELECTED).count() == 2


def test_people_who_qualify_after_the_opening_are_told_once_and_the_others_not_again(
    django_capture_on_commit_callbacks: Any,
) -> None:
    from perks.audience import rebuild_audience
    from perks.tasks import rebuild_audience as after_publish
    from scoring.models import LatestScore

    early = scored_person(60, country="CA")
    later = scored_person(20, country="CA")
    rebuild_audience()
    campaign = CampaignFactory.create(
        status=CampaignStatus.DRAFT, min_score=40, countries=["CA"], announced_at=None
    )
    add_codes(campaign, 2)
    with django_capture_on_commit_callbacks(execute=True):
        services.change_campaign_status(campaign_id=campaign.pk, actor_id=None, status="active")
    told = Notification.objects.filter(kind="perk_opened")
    assert list(told.values_list("user_id", flat=True)) == [early.pk]

    LatestScore.objects.filter(user=later).update(score=45)  # a later day's score
    after_publish()  # what a published day runs
    after_publish()  # and the next one, with nothing new

    assert sorted(told.values_list("user_id", flat=True)) == sorted([early.pk, later.pk])
    assert told.filter(user=early).count() == 1


def test_a_paused_or_unannounced_campaign_tells_nobody_after_a_published_day() -> None:
    from perks.audience import rebuild_audience

    scored_person(60, country="CA")
    rebuild_audience()
    paused = CampaignFactory.create(status=CampaignStatus.PAUSED, min_score=40, countries=["CA"])
    add_codes(paused, 1)
    draft = CampaignFactory.create(status=CampaignStatus.DRAFT, min_score=40, announced_at=None)
    add_codes(draft, 1)

    assert services.tell_new_qualifiers() == 0
    assert not Notification.objects.filter(kind="perk_opened").exists()


def test_new_qualifiers_of_every_open_campaign_are_told_in_the_same_few_queries() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from perks.audience import rebuild_audience

    def open_campaigns(n: int) -> None:
        for _ in range(n):
            campaign = CampaignFactory.create(min_score=40, countries=["CA"])
            CampaignTierFactory.create(campaign=campaign, name="Bronze", min_score=40, reward="Tea")
            CampaignTierFactory.create(campaign=campaign, name="Gold", min_score=80, reward="A hat")

    for _ in range(3):
        scored_person(60, country="CA")
    rebuild_audience()
    open_campaigns(1)
    with CaptureQueriesContext(connection) as one:
        assert services.tell_new_qualifiers() == 3
    Notification.objects.all().delete()
    open_campaigns(3)
    for _ in range(3):
        scored_person(90, country="CA")
    rebuild_audience()

    with CaptureQueriesContext(connection) as four:
        assert services.tell_new_qualifiers() == 4 * 6

    assert len(four.captured_queries) == len(one.captured_queries)
    told = Notification.objects.filter(kind="perk_opened")
    assert told.filter(body__endswith="Yours: A hat.").count() == 4 * 3
    assert told.filter(body__endswith="Yours: Tea.").count() == 4 * 3
    assert told.values("user_id", "key").distinct().count() == 4 * 6


def test_new_qualifiers_are_e_mailed_when_they_asked_and_muted_ones_hear_nothing(
    django_capture_on_commit_callbacks: Any,
) -> None:
    from accounts.models import NotificationPreference
    from perks.audience import rebuild_audience
    from scoring.models import LatestScore

    wants_mail = scored_person(20, country="CA")
    muted_kind = scored_person(20, country="CA")
    app_only = scored_person(20, country="CA")
    NotificationPreference.objects.create(user=wants_mail, perk_email=True)
    NotificationPreference.objects.create(
        user=muted_kind, perk_email=True, muted_kinds=["perk_opened"]
    )
    rebuild_audience()
    campaign = CampaignFactory.create(
        status=CampaignStatus.DRAFT, min_score=40, countries=["CA"], announced_at=None
    )
    CampaignTierFactory.create(campaign=campaign, name="Bronze", min_score=40, reward="20% off")
    CampaignTierFactory.create(campaign=campaign, name="Gold", min_score=80, reward="A jacket")
    add_codes(campaign, 2)
    with django_capture_on_commit_callbacks(execute=True):
        services.change_campaign_status(campaign_id=campaign.pk, actor_id=None, status="active")
    assert not Notification.objects.exists()  # nobody qualified at the opening
    mail.outbox.clear()

    LatestScore.objects.filter(user__in=[wants_mail, muted_kind, app_only]).update(score=85)
    rebuild_audience()
    assert services.tell_new_qualifiers() == 2
    assert services.tell_new_qualifiers() == 0

    told = Notification.objects.filter(kind="perk_opened")
    assert sorted(told.values_list("user_id", flat=True)) == sorted([wants_mail.pk, app_only.pk])
    assert told.get(user=wants_mail).body.endswith("Yours: A jacket.")
    assert told.get(user=wants_mail).url == f"/perks/{campaign.pk}/"
    assert [m.to for m in mail.outbox] == [[wants_mail.email]]
    assert told.get(user=wants_mail).emailed_at is not None


def test_an_unknown_or_impossible_status_is_refused_in_plain_words() -> None:
    campaign = CampaignFactory.create(status=CampaignStatus.ACTIVE)

    with pytest.raises(PerkError, match=r"^There is no campaign status 'bogus'\.$"):
        services.change_campaign_status(campaign_id=campaign.pk, actor_id=None, status="bogus")
    with pytest.raises(PerkError, match=r"^An active campaign cannot become draft\.$"):
        services.change_campaign_status(campaign_id=campaign.pk, actor_id=None, status="draft")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE
