"""The one notification pipeline: batches, idempotence per key and per day, preferences, digest."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from accounts import digests
from accounts.digests import register_digest_section, send_weekly_digests
from accounts.models import Notification, NotificationPreference, User
from accounts.services import Notice, notify, send_notices

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 2)


def test_a_batch_is_stored_once_and_a_second_send_adds_nothing(alice: User, bob: User) -> None:
    batch = [
        Notice(user_id=alice.pk, kind="score_moved", title="Up 4", key="score:2026-11-02", day=DAY),
        Notice(user_id=bob.pk, kind="score_moved", title="Down 3", key="score:2026-11-02", day=DAY),
    ]
    assert send_notices(notices=batch) == 2
    assert send_notices(notices=batch) == 0
    assert Notification.objects.count() == 2
    assert Notification.objects.get(user=alice).day == DAY


def test_people_who_turned_in_app_off_get_nothing_from_a_batch(alice: User, bob: User) -> None:
    NotificationPreference.objects.create(user=bob, in_app=False)
    notices = [Notice(user_id=u.pk, kind="k", title="t", key="x") for u in (alice, bob)]
    assert send_notices(notices=notices) == 1
    assert list(Notification.objects.values_list("user_id", flat=True)) == [alice.pk]


def test_notify_keeps_its_signature_and_is_idempotent_per_day(alice: User) -> None:
    first = notify(user_id=alice.pk, kind="plus_k", title="Bob gave you +K on Python", day=DAY)
    again = notify(user_id=alice.pk, kind="plus_k", title="Bob gave you +K on Python", day=DAY)
    later = notify(
        user_id=alice.pk,
        kind="plus_k",
        title="Bob gave you +K on Python",
        day=DAY + dt.timedelta(days=1),
    )
    assert first is not None
    assert again is None
    assert later is not None
    assert Notification.objects.filter(user=alice).count() == 2


def test_the_digest_carries_registered_sections_built_once_per_chunk(
    alice: User, bob: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digests, "_SECTIONS", {})
    calls: list[list[int]] = []

    def week(user_ids, since):
        calls.append(list(user_ids))
        return {alice.pk: ["Your score went up 4 points this week: 53 → 57"]}

    register_digest_section(key="week", title="Your week", build=week)
    assert send_weekly_digests() == 1  # bob has neither notifications nor a section line
    assert len(calls) == 1
    assert set(calls[0]) >= {alice.pk, bob.pk}
    body = str(mail.outbox[0].body)
    assert "Your week" in body
    assert "53 → 57" in body
    assert mail.outbox[0].to == [alice.email]


def test_muted_people_get_nothing_from_a_batch_beyond_a_handful(alice: User, bob: User) -> None:
    from klout.bulk import FEW
    from tests.factories.accounts import UserFactory

    NotificationPreference.objects.create(user=bob, in_app=False)
    others = [UserFactory.create() for _ in range(FEW)]
    notices = [Notice(user_id=u.pk, kind="k", title="t", key="x") for u in [alice, bob, *others]]

    assert send_notices(notices=notices) == FEW + 1
    assert not Notification.objects.filter(user=bob).exists()


def test_a_notice_is_e_mailed_once_and_only_to_people_who_asked(alice: User, bob: User) -> None:
    NotificationPreference.objects.create(user=alice, perk_email=True)
    NotificationPreference.objects.create(user=bob, perk_email=False)
    batch = [
        Notice(
            user_id=u.pk,
            kind="perk_opened",
            title="New perk for you: Jackets",
            body="Acme offers it.",
            url="/perks/1/",
            key="perk_opened:1",
            email_if="perk_email",
        )
        for u in (alice, bob)
    ]

    assert send_notices(notices=batch) == 2
    assert send_notices(notices=batch) == 0

    assert [m.to for m in mail.outbox] == [[alice.email]]
    assert mail.outbox[0].subject == "New perk for you: Jackets"
    assert "/perks/1/" in mail.outbox[0].body
    assert Notification.objects.get(user=alice).emailed_at is not None
    assert Notification.objects.get(user=bob).emailed_at is None


def test_a_notice_without_email_if_is_never_e_mailed(alice: User) -> None:
    NotificationPreference.objects.create(user=alice, perk_email=True)

    send_notices(notices=[Notice(user_id=alice.pk, kind="perk_opened", title="t", key="k")])

    assert not mail.outbox


def test_e_mail_follows_only_yes_no_preferences() -> None:
    from accounts.services import email_notices

    with pytest.raises(ValueError, match="not a yes/no"):
        email_notices(kind="perk_opened", key="k", preference="score_move_threshold")


def test_a_kind_turned_off_is_dropped_and_others_still_arrive(alice: User, bob: User) -> None:
    NotificationPreference.objects.create(user=alice, muted_kinds=["plus_k"])
    batch = [
        Notice(user_id=alice.pk, kind="plus_k", title="+K", key="a", day=DAY),
        Notice(user_id=alice.pk, kind="score_moved", title="Up 4", key="b", day=DAY),
        Notice(user_id=bob.pk, kind="plus_k", title="+K", key="a", day=DAY),
    ]
    assert send_notices(notices=batch) == 2
    assert set(Notification.objects.values_list("user_id", "kind")) == {
        (alice.pk, "score_moved"),
        (bob.pk, "plus_k"),
    }


def test_the_settings_page_offers_each_registered_kind_to_turn_off(alice_client, alice) -> None:
    from django.urls import reverse

    url = reverse("notification_settings")
    page = alice_client.get(url).content.decode()
    assert 'value="achievement_unlocked"' in page
    assert 'value="plus_k"' in page
    alice_client.post(
        url,
        {"score_move_threshold": 3, "in_app": "on", "muted_kinds": ["plus_k", "score_moved"]},
    )
    assert NotificationPreference.objects.get(user=alice).muted_kinds == ["plus_k", "score_moved"]
    bad = alice_client.post(url, {"score_move_threshold": 3, "muted_kinds": ["nonsense"]})
    assert b"not one of the available choices" in bad.content


def test_notices_built_in_the_database_are_e_mailed_once_to_people_who_asked(
    alice: User, bob: User
) -> None:
    from accounts.services import send_notice_rows

    NotificationPreference.objects.create(user=alice, perk_email=True)
    NotificationPreference.objects.create(user=bob, perk_email=False)
    sql = (
        "SELECT id AS user_id, 'perk_opened' AS kind, %s AS title, %s AS body, %s AS url,"
        " %s AS key, %s AS day FROM accounts_user WHERE id IN (%s, %s)"
    )
    params = ["New perk for you: Jackets", "Acme offers it.", "/perks/1/", "perk_opened:1", DAY]
    email = [("perk_opened", "perk_opened:1", "perk_email")]

    assert send_notice_rows(sql=sql, params=[*params, alice.pk, bob.pk], email=email) == 2
    assert send_notice_rows(sql=sql, params=[*params, alice.pk, bob.pk], email=email) == 0

    assert [m.to for m in mail.outbox] == [[alice.email]]
    assert mail.outbox[0].subject == "New perk for you: Jackets"
    assert Notification.objects.get(user=alice).emailed_at is not None
    assert Notification.objects.get(user=bob).emailed_at is None


def _roll_up(user: User, *, rollup: str = "topic:1", key: str, kind: str = "plus_k") -> bool:
    from accounts.services import roll_up_notice

    return roll_up_notice(
        user_id=user.pk,
        kind=kind,
        rollup=rollup,
        key=key,
        title_one="Bob gave you +K in Python",
        title_many="{count} people gave you +K in Python",
        url="/topics/python/",
        day=DAY,
    )


def test_rolled_up_notices_add_up_while_unread_and_start_again_once_read(
    alice: User, bob: User
) -> None:
    assert _roll_up(alice, key="a")
    assert _roll_up(alice, key="b")
    assert _roll_up(alice, key="c", rollup="topic:2")
    assert _roll_up(bob, key="d")
    rolled = Notification.objects.get(user=alice, rollup="topic:1")
    assert (rolled.title, rolled.count, rolled.key) == ("2 people gave you +K in Python", 2, "a")

    Notification.objects.filter(pk=rolled.pk).update(
        read_at=dt.datetime(2026, 11, 3, tzinfo=dt.UTC)
    )
    assert _roll_up(alice, key="e")

    assert sorted(
        (n.rollup, n.count, n.read_at is None) for n in Notification.objects.filter(user=alice)
    ) == [("topic:1", 1, True), ("topic:1", 2, False), ("topic:2", 1, True)]


def test_rolled_up_notices_skip_people_who_turned_them_off(alice: User, bob: User) -> None:
    NotificationPreference.objects.create(user=alice, muted_kinds=["plus_k"])
    NotificationPreference.objects.create(user=bob, in_app=False)

    assert not _roll_up(alice, key="a")
    assert not _roll_up(bob, key="b")
    assert _roll_up(alice, key="c", kind="other")
    assert list(Notification.objects.values_list("user_id", "kind")) == [(alice.pk, "other")]
