"""In-app notifications, preferences, the weekly digest and its one-click unsubscribe."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.digests import send_weekly_digests
from accounts.models import DigestSend, Notification, NotificationPreference, User
from accounts.services import notify, preferences_for

pytestmark = pytest.mark.django_db


def test_notify_creates_an_in_app_notification_with_default_preferences(alice: User) -> None:
    made = notify(user_id=alice.pk, kind="score", title="Up 4 points", url="/dashboard/")
    assert made is not None
    assert Notification.objects.get(user=alice).title == "Up 4 points"
    assert preferences_for(alice.pk).score_move_threshold == 3


def test_notify_respects_in_app_turned_off(alice: User) -> None:
    NotificationPreference.objects.create(user=alice, in_app=False)
    assert notify(user_id=alice.pk, kind="score", title="Up 4 points") is None
    assert not Notification.objects.exists()


def _notifications_page(client: Client) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("notifications")).content.decode()
    return html, len(queries)


def test_the_notifications_page_query_count_does_not_grow_with_the_notifications(
    alice_client: Client, alice: User
) -> None:
    for n in range(3):
        notify(user_id=alice.pk, kind="score", title=f"n{n}")
    html, few = _notifications_page(alice_client)
    assert '<span class="badge-pill" id="unread-count">3</span>' in html

    for n in range(3, 60):
        notify(user_id=alice.pk, kind="score", title=f"n{n}")
    html, many = _notifications_page(alice_client)

    assert '<span class="badge-pill" id="unread-count">60</span>' in html
    assert "n59" in html
    assert few == many


def test_marking_all_read_clears_the_count(alice_client: Client, alice: User) -> None:
    notify(user_id=alice.pk, kind="score", title="n")
    alice_client.post(reverse("notifications"))
    assert not Notification.objects.unread().exists()


def test_charlie_does_not_see_alices_notifications(alice: User, charlie_client: Client) -> None:
    notify(user_id=alice.pk, kind="score", title="Alice's private news")
    html = charlie_client.get(reverse("notifications")).content.decode()
    assert "Alice's private news" not in html
    assert 'id="unread-count"' not in html


def test_no_page_of_charlies_notifications_shows_alices(
    alice: User, charlie: User, charlie_client: Client
) -> None:
    from accounts.views import NOTIFICATIONS_PAGE_SIZE

    notify(user_id=alice.pk, kind="score", title="Alice's private news")
    for n in range(NOTIFICATIONS_PAGE_SIZE + 1):
        notify(user_id=charlie.pk, kind="score", title=f"charlie-{n:03d}")
    first = charlie_client.get(reverse("notifications")).content.decode()
    second = charlie_client.get(reverse("notifications"), {"page": 2}).content.decode()

    assert "charlie-000" in second  # the oldest of charlie's, on the page that would hold alice's
    assert "Alice's private news" not in first + second


def _many_notifications(user: User, how_many: int) -> None:
    Notification.objects.bulk_create(
        Notification(user=user, kind="score", title=f"note-{n:04d}") for n in range(how_many)
    )


def test_the_notifications_page_pages_back_to_the_oldest_newest_first(
    alice: User, alice_client: Client
) -> None:
    from accounts.views import NOTIFICATIONS_PAGE_SIZE as SIZE

    _many_notifications(alice, 2 * SIZE + 20)
    url = reverse("notifications")

    first = alice_client.get(url).content.decode()
    second = alice_client.get(url, {"page": 2}).content.decode()
    third = alice_client.get(url, {"page": 3}).content.decode()

    newest, oldest = f"note-{2 * SIZE + 19:04d}", "note-0000"
    assert newest in first
    assert newest not in second + third
    assert f"note-{SIZE + 20:04d}" in first
    assert f"note-{SIZE + 19:04d}" not in first
    assert f"note-{SIZE + 19:04d}" in second
    assert oldest in third
    assert oldest not in first + second
    assert first.index(newest) < first.index(f"note-{2 * SIZE + 18:04d}")  # newest first
    assert 'href="?page=2"' in first
    assert "← Newer" not in first
    assert 'href="?page=1"' in second
    assert 'href="?page=3"' in second
    assert "Older →" not in third


def test_a_page_past_the_end_or_nonsense_is_handled(alice: User, alice_client: Client) -> None:
    _many_notifications(alice, 3)
    url = reverse("notifications")

    past = alice_client.get(url, {"page": 9}).content.decode()
    nonsense = alice_client.get(url, {"page": "-x"})

    assert "fewer notifications than that" in past
    assert 'href="?page=1"' in past
    assert nonsense.status_code == 200
    assert "note-0002" in nonsense.content.decode()


def test_an_empty_notifications_page_says_what_will_show_up_there(alice_client: Client) -> None:
    html = alice_client.get(reverse("notifications")).content.decode()

    content = html.split("<h1>Notifications</h1>", 1)[1]
    empty_state = content[: content.index("</p>")]
    for what in ("+K", "achievement", "perk", "Klout Score"):
        assert what in empty_state
    assert "Older →" not in html


def test_preferences_page_saves_and_rejects_a_silly_threshold(
    alice_client: Client, alice: User
) -> None:
    url = reverse("notification_settings")
    bad = alice_client.post(url, {"score_move_threshold": 0, "in_app": "on"})
    assert b"between 1 and 50" in bad.content
    alice_client.post(url, {"score_move_threshold": 7, "in_app": "on"})
    preference = preferences_for(alice.pk)
    assert preference.score_move_threshold == 7
    assert preference.in_app
    assert not preference.weekly_digest  # unchecked box


def test_weekly_digest_mails_people_who_want_it_with_an_unsubscribe_link(
    alice: User, bob: User
) -> None:
    notify(user_id=alice.pk, kind="score", title="Up 4 points")
    notify(user_id=bob.pk, kind="score", title="Bob news")
    NotificationPreference.objects.filter(user=bob).update(weekly_digest=False)
    assert send_weekly_digests() == 1
    message = mail.outbox[0]
    assert message.to == [alice.email]
    assert "Up 4 points" in str(message.body)
    token = preferences_for(alice.pk).unsubscribe_token
    assert f"/notifications/unsubscribe/{token}/" in str(message.body)
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_unsubscribe_works_logged_out_in_one_click(alice: User) -> None:
    client = Client(enforce_csrf_checks=True)
    token = preferences_for(alice.pk).unsubscribe_token
    url = reverse("unsubscribe", args=[token])
    assert client.get(url).status_code == 200
    response = client.post(url)  # what a mail client's one-click does, without a CSRF token
    assert response.status_code == 200
    assert not preferences_for(alice.pk).weekly_digest


def test_unsubscribe_with_a_wrong_token_is_404(client: Client, alice: User) -> None:
    preferences_for(alice.pk)
    assert client.post(reverse("unsubscribe", args=["not-a-token"])).status_code == 404
    assert preferences_for(alice.pk).weekly_digest


def test_a_redelivered_weekly_digest_sends_nobody_twice(alice: User, bob: User) -> None:
    notify(user_id=alice.pk, kind="score", title="Up 4 points")
    notify(user_id=bob.pk, kind="score", title="Bob news")
    monday = timezone.make_aware(datetime.datetime(2026, 11, 30, 7, 0))

    first = send_weekly_digests(now=monday)
    redelivered = send_weekly_digests(now=monday + datetime.timedelta(hours=1))

    assert (first, redelivered) == (2, 0)
    assert sorted(m.to[0] for m in mail.outbox) == [alice.email, bob.email]
    assert set(DigestSend.objects.values_list("user_id", "week", "notifications")) == {
        (alice.pk, monday.date(), 1),
        (bob.pk, monday.date(), 1),
    }


def test_a_digest_that_fails_to_send_is_not_recorded_as_sent(alice: User, monkeypatch) -> None:
    notify(user_id=alice.pk, kind="score", title="Up 4 points")

    def refuse(self, fail_silently=False):
        raise ConnectionRefusedError("SMTP server away")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)
    with pytest.raises(ConnectionRefusedError):
        send_weekly_digests()

    assert not DigestSend.objects.exists()


@override_settings(KLOUT_SITE_URL="https://klout.example.com")
def test_digest_links_point_at_the_configured_site(alice: User) -> None:
    notify(user_id=alice.pk, kind="score", title="Up 4 points")

    send_weekly_digests()

    token = preferences_for(alice.pk).unsubscribe_token
    expected = f"https://klout.example.com/notifications/unsubscribe/{token}/"
    assert expected in str(mail.outbox[0].body)
    assert mail.outbox[0].extra_headers["List-Unsubscribe"] == f"<{expected}>"
    assert "127.0.0.1" not in str(mail.outbox[0].body)
