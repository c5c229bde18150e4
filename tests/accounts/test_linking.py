"""Linking network accounts through allauth's real flow: devnet and a real OAuth 2 provider."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses
from allauth.socialaccount.models import SocialAccount
from django.test import Client, override_settings
from django.urls import reverse

from accounts import signals
from accounts.crypto import decrypt_token
from accounts.models import ProviderCredential, User
from tests.accounts.conftest import link_devnet, start_devnet_flow

pytestmark = pytest.mark.django_db


def test_linking_a_devnet_account_stores_the_link_and_encrypted_tokens(
    alice_client: Client, alice: User
) -> None:
    heard: list[dict[str, object]] = []

    def listener(**kwargs: object) -> None:
        heard.append(kwargs)

    signals.social_account_linked.connect(listener)
    try:
        response = link_devnet(alice_client, "alice_dev")
    finally:
        signals.social_account_linked.disconnect(listener)
    assert response.status_code == 302
    account = SocialAccount.objects.get(user=alice)
    assert (account.provider, account.uid) == ("devnet", "alice_dev")
    credential = ProviderCredential.objects.get(user=alice)
    assert decrypt_token(credential.access_token_enc).startswith("devnet-access-")
    assert heard[0]["user_id"] == alice.pk
    assert heard[0]["handle"] == "alice_dev"


def test_devnet_consent_screen_refuses_a_missing_state(alice_client: Client) -> None:
    response = alice_client.post(reverse("devnet_authenticate"), {"handle": "alice_dev"})
    assert response.status_code == 403
    assert not SocialAccount.objects.exists()


def test_devnet_consent_screen_refuses_a_forged_state(alice_client: Client) -> None:
    start_devnet_flow(alice_client)
    url = reverse("devnet_authenticate") + "?state=forged-state"
    response = alice_client.post(url, {"handle": "alice_dev"})
    assert response.status_code == 403
    assert not SocialAccount.objects.exists()
    assert not ProviderCredential.objects.exists()


def test_devnet_consent_screen_rejects_a_bad_handle_and_links_nothing(alice_client: Client) -> None:
    consent = start_devnet_flow(alice_client)
    response = alice_client.post(consent, {"handle": "Not a handle!"})
    assert response.status_code == 200
    assert b"lowercase letters" in response.content
    assert not SocialAccount.objects.exists()


def test_an_account_linked_by_someone_else_cannot_be_linked_again(
    alice_client: Client, charlie_client: Client, charlie: User
) -> None:
    link_devnet(alice_client, "shared_handle")
    link_devnet(charlie_client, "shared_handle")
    assert not SocialAccount.objects.filter(user=charlie).exists()


@override_settings(TOKEN_ENCRYPTION_KEYS=[])
def test_social_sign_up_without_an_encryption_key_creates_no_user_and_no_link(
    client: Client,
) -> None:
    response = link_devnet(client, "newcomer", process="login")
    assert response.status_code == 503
    assert b"nothing was saved" in response.content
    assert not User.objects.exists()
    assert not SocialAccount.objects.exists()
    assert not ProviderCredential.objects.exists()


@override_settings(TOKEN_ENCRYPTION_KEYS=[])
def test_linking_without_an_encryption_key_links_nothing(alice_client: Client) -> None:
    response = link_devnet(alice_client, "alice_dev")
    assert response.status_code == 503
    assert not SocialAccount.objects.exists()


# --- A real OAuth 2 provider (GitHub, configured in tests/settings.py) ---------------------------


def start_github(client: Client) -> str:
    """Start the GitHub connect flow; return the state GitHub would echo back."""
    response = client.post(reverse("github_login"), {"process": "connect"})
    assert response.status_code == 302
    location = urlparse(response["Location"])
    assert location.netloc == "github.com"
    return parse_qs(location.query)["state"][0]


def test_github_callback_without_state_is_an_error_and_links_nothing(alice_client: Client) -> None:
    start_github(alice_client)
    alice_client.cookies.clear()  # a callback from a browser that never started the flow
    alice_client.force_login(User.objects.get(email="alice@example.com"))
    response = alice_client.get(reverse("github_callback"), {"code": "abc"})
    assert response.status_code == 401
    assert b"Login Failure" in response.content
    assert not SocialAccount.objects.exists()


def test_github_callback_with_a_bad_state_is_an_error_and_links_nothing(
    alice_client: Client,
) -> None:
    start_github(alice_client)
    response = alice_client.get(reverse("github_callback"), {"code": "abc", "state": "forged"})
    assert response.status_code == 401
    assert b"Login Failure" in response.content
    assert not SocialAccount.objects.exists()


@pytest.mark.parametrize(
    "failure",
    [{"status": 500}, {"body": requests.ConnectTimeout("timed out")}],
    ids=["provider-500", "timeout"],
)
@responses.activate
def test_github_token_exchange_failure_is_a_clear_error_and_links_nothing(
    alice_client: Client, failure: dict
) -> None:
    state = start_github(alice_client)
    responses.post("https://github.com/login/oauth/access_token", **failure)
    response = alice_client.get(reverse("github_callback"), {"code": "abc", "state": state})
    assert response.status_code == 401
    assert b"Login Failure" in response.content
    assert not SocialAccount.objects.exists()
    assert not ProviderCredential.objects.exists()


@responses.activate
def test_github_link_completes_and_stores_the_token_encrypted(
    alice_client: Client, alice: User
) -> None:
    state = start_github(alice_client)
    responses.post(
        "https://github.com/login/oauth/access_token",
        json={"access_token": "gho_real", "token_type": "bearer", "scope": "read:user"},
    )
    responses.get(
        "https://api.github.com/user", json={"id": 4242, "login": "alice-gh", "name": "Alice"}
    )
    responses.get("https://api.github.com/user/emails", status=404)
    response = alice_client.get(reverse("github_callback"), {"code": "abc", "state": state})
    assert response.status_code == 302
    assert SocialAccount.objects.get(user=alice).uid == "4242"
    credential = ProviderCredential.objects.get(user=alice)
    assert b"gho_real" not in bytes(credential.access_token_enc)
    assert decrypt_token(credential.access_token_enc) == "gho_real"
