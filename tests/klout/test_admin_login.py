"""Admin sign-in goes through allauth: no password-only way past TOTP, no unlimited guesses."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import Client
from django.urls import reverse

from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture
def staff_with_totp():
    staff = UserFactory.create(email="ops@example.com", is_staff=True, is_superuser=True)
    TOTP.activate(staff, generate_totp_secret())
    return staff


def test_admin_login_with_the_password_alone_does_not_sign_a_totp_user_in(
    client: Client, staff_with_totp
):
    response = client.post(
        "/admin/login/?next=/staff/runs/", {"username": staff_with_totp.email, "password": PASSWORD}
    )

    assert "_auth_user_id" not in client.session
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == reverse("account_login")
    assert parse_qs(target.query)["next"] == ["/staff/runs/"]
    assert client.get("/staff/runs/").status_code != 200


def test_admin_login_checks_no_password_so_guesses_meet_allauths_limit(
    client: Client, staff_with_totp
):
    guesses = [
        client.post("/admin/login/", {"username": staff_with_totp.email, "password": f"x{i}"})
        for i in range(30)
    ]
    # allauth's form, where guesses go instead, refuses even the right password after its limit
    for i in range(10):
        client.post(reverse("account_login"), {"login": staff_with_totp.email, "password": f"y{i}"})
    right = client.post(
        reverse("account_login"), {"login": staff_with_totp.email, "password": PASSWORD}
    )

    assert {urlsplit(g["Location"]).path for g in guesses if g.status_code == 302} == {
        reverse("account_login")
    }
    assert all(g.status_code == 302 for g in guesses)
    assert right.status_code == 200
    assert "Too many failed login attempts" in right.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_signed_in_staff_member_reaches_the_admin(client: Client, staff_with_totp):
    client.force_login(staff_with_totp)

    assert client.get("/admin/").status_code == 200
