"""E-mail sign-up, verification, log-in, password reset and TOTP two-factor, through allauth."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.accounts.conftest import link_from_mail

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-and-unusual-passphrase-42"


def sign_up(client: Client, email: str = "newcomer@example.com") -> None:
    response = client.post(
        reverse("account_signup"), {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302


def test_sign_up_sends_a_confirmation_link_and_confirming_signs_in(client: Client) -> None:
    # given a newcomer who signed up
    sign_up(client)
    assert not EmailAddress.objects.get(email="newcomer@example.com").verified
    # when they open the link in the e-mail and confirm
    confirm_path = link_from_mail(mail.outbox[0].body)
    page = client.get(confirm_path)
    assert page.status_code == 200
    assert b"klout.css" in page.content  # in our layout
    response = client.post(confirm_path)
    # then the address is verified and they are signed in
    assert response.status_code == 302
    assert EmailAddress.objects.get(email="newcomer@example.com").verified
    assert client.get(reverse("linked_accounts")).status_code == 200


def test_sign_up_pages_use_the_site_layout(client: Client) -> None:
    response = client.get(reverse("account_signup"))
    assert response.status_code == 200
    assert b'class="site-header"' in response.content


def test_an_expired_confirmation_link_is_refused_and_leaves_the_address_unverified(
    client: Client,
) -> None:
    sign_up(client)
    confirm_path = link_from_mail(mail.outbox[0].body)
    # four days later (links live three days)
    later = time.time() + 4 * 24 * 3600
    with mock.patch("django.core.signing.time.time", return_value=later):
        page = client.get(confirm_path)
        client.post(confirm_path)
    assert b"expired or is invalid" in page.content
    assert not EmailAddress.objects.get(email="newcomer@example.com").verified


def test_sign_up_with_a_taken_email_creates_no_second_user(client: Client, alice: User) -> None:
    response = client.post(
        reverse("account_signup"),
        {"email": alice.email, "password1": PASSWORD, "password2": PASSWORD},
    )
    # allauth hides whether the address exists (enumeration), but never makes a duplicate
    assert response.status_code in {200, 302}
    assert User.objects.filter(email=alice.email).count() == 1


def test_log_in_with_a_wrong_password_says_so_and_stays_anonymous(
    client: Client, alice: User
) -> None:
    response = client.post(
        reverse("account_login"), {"login": alice.email, "password": "not-her-password"}
    )
    assert response.status_code == 200
    assert b"not correct" in response.content
    assert "_auth_user_id" not in client.session


def test_log_in_with_the_right_password_signs_in(client: Client, alice: User) -> None:
    response = client.post(
        reverse("account_login"),
        {"login": alice.email, "password": "correct horse battery staple"},
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_password_reset_by_mail_sets_a_new_password(client: Client, alice: User) -> None:
    client.post(reverse("account_reset_password"), {"email": alice.email})
    reset_path = link_from_mail(mail.outbox[0].body)
    form_page = client.get(reset_path, follow=True)
    form_path = form_page.redirect_chain[-1][0] if form_page.redirect_chain else reset_path
    response = client.post(
        form_path, {"password1": "brand-new-passphrase-77", "password2": "brand-new-passphrase-77"}
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("brand-new-passphrase-77")


def test_two_factor_log_in_asks_for_a_totp_code_and_refuses_a_wrong_one(
    client: Client, alice: User
) -> None:
    # given alice turned on TOTP
    secret = generate_totp_secret()
    TOTP.activate(alice, secret)
    # when she logs in with her password
    response = client.post(
        reverse("account_login"),
        {"login": alice.email, "password": "correct horse battery staple"},
    )
    # then she is asked for a code, and not signed in yet
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200
    assert "_auth_user_id" not in client.session
    # and the right code signs her in
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    right = client.post(reverse("mfa_authenticate"), {"code": code})
    assert right.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_two_factor_settings_page_renders_in_our_layout(alice_client: Client) -> None:
    response = alice_client.get(reverse("mfa_index"))
    assert response.status_code == 200
    assert b'class="site-header"' in response.content


def test_turning_on_two_factor_needs_a_valid_code_from_the_shown_secret(
    client: Client, alice: User
) -> None:
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY

    # given alice is signed in
    client.force_login(alice)
    # when she opens the activation page she must confirm her password first
    first = client.get(reverse("mfa_activate_totp"))
    assert first.status_code == 302
    assert first["Location"].startswith(reverse("account_reauthenticate"))
    client.post(first["Location"], {"password": "correct horse battery staple"})
    # and then a secret is generated for her to scan
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    # then a wrong code is refused and nothing is switched on
    wrong = client.post(reverse("mfa_activate_totp"), {"code": "000000"})
    assert wrong.status_code == 200
    assert not Authenticator.objects.filter(user=alice).exists()
    # and the right code switches TOTP on
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    right = client.post(reverse("mfa_activate_totp"), {"code": code})
    assert right.status_code == 302
    assert Authenticator.objects.filter(user=alice, type=Authenticator.Type.TOTP).exists()
