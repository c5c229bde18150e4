"""The time-zone setting: only the signed-in person's own, only zones the server knows."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_the_time_zone_page_needs_a_signed_in_person(client) -> None:
    for response in (
        client.get(reverse("time_zone_settings")),
        client.post(reverse("time_zone_settings"), {"time_zone": "Europe/Paris"}),
    ):
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_a_person_sets_their_own_time_zone_and_nobody_elses(alice, alice_client, bob) -> None:
    User.objects.filter(pk=bob.pk).update(time_zone="Asia/Seoul")

    response = alice_client.post(
        reverse("time_zone_settings"), {"time_zone": "Europe/Paris", "user": bob.pk}
    )

    assert response.status_code == 302
    assert User.objects.get(pk=alice.pk).time_zone == "Europe/Paris"
    assert User.objects.get(pk=bob.pk).time_zone == "Asia/Seoul"
    page = alice_client.get(reverse("time_zone_settings")).content.decode()
    assert "Time zone saved." in page
    assert "Hours are shown in <strong>Europe/Paris</strong>" in page


def test_an_unknown_time_zone_is_refused_and_nothing_changes(alice, alice_client) -> None:
    response = alice_client.post(reverse("time_zone_settings"), {"time_zone": "Mars/Base"})

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert User.objects.get(pk=alice.pk).time_zone == ""


def test_clearing_the_setting_falls_back_to_the_browsers_zone(alice, alice_client) -> None:
    User.objects.filter(pk=alice.pk).update(time_zone="Europe/Paris")
    alice_client.cookies["tz"] = "America/Chicago"

    alice_client.post(reverse("time_zone_settings"), {"time_zone": ""})

    assert User.objects.get(pk=alice.pk).time_zone == ""
    page = alice_client.get(reverse("time_zone_settings")).content.decode()
    assert "Hours are shown in <strong>America/Chicago</strong>" in page
