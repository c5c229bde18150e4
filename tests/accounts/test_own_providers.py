"""Our own providers: Bluesky (handle + app password) and Mastodon (any instance)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses
from allauth.socialaccount.models import SocialAccount
from django.test import Client
from django.urls import reverse

from accounts.crypto import decrypt_token
from accounts.models import MastodonApp, ProviderCredential, User
from accounts.services import refresh_credential
from tests.factories.accounts import ProviderCredentialFactory

pytestmark = pytest.mark.django_db
BSKY = "https://bsky.social/xrpc"
SESSION = {
    "did": "did:plc:alice123",
    "handle": "alice.bsky.social",
    "accessJwt": "access-jwt",
    "refreshJwt": "refresh-jwt",
}


def start(client: Client, name: str) -> str:
    response = client.post(reverse(name), {"process": "connect"})
    assert response.status_code == 302
    return str(response["Location"])


@responses.activate
def test_bluesky_links_with_an_app_password_and_stores_only_the_session_tokens(
    alice_client: Client, alice: User
) -> None:
    responses.post(f"{BSKY}/com.atproto.server.createSession", json=SESSION)
    form_url = start(alice_client, "bluesky_login")
    response = alice_client.post(
        form_url, {"handle": "@alice.bsky.social", "app_password": "abcd-efgh-ijkl-mnop"}
    )
    assert response.status_code == 302
    assert SocialAccount.objects.get(user=alice).uid == "did:plc:alice123"
    credential = ProviderCredential.objects.get(user=alice)
    assert decrypt_token(credential.refresh_token_enc) == "refresh-jwt"
    for row in ProviderCredential.objects.values():
        assert "abcd-efgh" not in str(row)


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        ({"status": 401, "json": {"error": "AuthenticationRequired"}}, b"did not accept"),
        ({"status": 500}, b"had a problem"),
        ({"body": requests.ConnectTimeout("timeout")}, b"did not answer"),
    ],
    ids=["wrong-password", "provider-500", "timeout"],
)
@responses.activate
def test_bluesky_failures_are_explained_and_link_nothing(
    alice_client: Client, failure: dict, message: bytes
) -> None:
    responses.post(f"{BSKY}/com.atproto.server.createSession", **failure)
    form_url = start(alice_client, "bluesky_login")
    response = alice_client.post(form_url, {"handle": "alice.bsky.social", "app_password": "x"})
    assert response.status_code == 200
    assert message in response.content
    assert not SocialAccount.objects.exists()
    assert not ProviderCredential.objects.exists()


@responses.activate
def test_bluesky_refresh_uses_refresh_session_and_a_refusal_needs_reconnect() -> None:
    ok = ProviderCredentialFactory.create(provider="bluesky", uid="did:plc:ok")
    refused = ProviderCredentialFactory.create(provider="bluesky", uid="did:plc:refused")
    responses.post(
        f"{BSKY}/com.atproto.server.refreshSession",
        json={"accessJwt": "a2", "refreshJwt": "r2"},
        match=[responses.matchers.header_matcher({"Authorization": "Bearer old-refresh"})],
    )
    refresh_credential(credential_id=ok.pk)
    ok.refresh_from_db()
    assert decrypt_token(ok.refresh_token_enc) == "r2"
    responses.replace(
        responses.POST, f"{BSKY}/com.atproto.server.refreshSession", status=400,
        json={"error": "ExpiredToken"},
    )  # fmt: skip
    assert refresh_credential(credential_id=refused.pk).needs_reconnect


MASTO = "https://social.example"


def mastodon_instance_registered() -> None:
    responses.post(f"{MASTO}/api/v1/apps", json={"client_id": "cid", "client_secret": "csecret"})


@responses.activate
def test_mastodon_registers_our_app_once_per_instance_and_links(
    alice_client: Client, alice: User
) -> None:
    mastodon_instance_registered()
    responses.post(f"{MASTO}/oauth/token", json={"access_token": "masto-token"})
    responses.get(
        f"{MASTO}/api/v1/accounts/verify_credentials",
        json={"id": "109", "username": "alice", "display_name": "Alice"},
    )
    # the person types their instance, in any of the usual spellings
    page = alice_client.post(reverse("mastodon_login") + "?process=connect")
    assert b"Your Mastodon server" in page.content
    response = alice_client.post(
        reverse("mastodon_login"),
        {"instance": "https://Social.Example/@alice", "process": "connect"},
    )
    location = urlparse(response["Location"])
    assert location.netloc == "social.example"
    state = parse_qs(location.query)["state"][0]
    app = MastodonApp.objects.get(domain="social.example")
    assert decrypt_token(app.client_secret_enc) == "csecret"
    # when the instance sends them back
    done = alice_client.get(reverse("mastodon_callback"), {"code": "c0de", "state": state})
    # then the account is linked and the app was registered only once
    assert done.status_code == 302
    assert SocialAccount.objects.get(user=alice).uid == "109@social.example"
    assert (
        decrypt_token(ProviderCredential.objects.get(user=alice).access_token_enc) == "masto-token"
    )
    alice_client.post(reverse("mastodon_login"), {"instance": "social.example"})
    assert len([c for c in responses.calls if str(c.request.url).endswith("/api/v1/apps")]) == 1


def test_mastodon_rejects_a_nonsense_instance_name(alice_client: Client) -> None:
    response = alice_client.post(reverse("mastodon_login"), {"instance": "not a server"})
    assert b"is not a Mastodon server name" in response.content
    assert not MastodonApp.objects.exists()


@responses.activate
def test_mastodon_callback_with_a_bad_state_links_nothing(alice_client: Client) -> None:
    mastodon_instance_registered()
    alice_client.post(reverse("mastodon_login"), {"instance": "social.example"})
    response = alice_client.get(reverse("mastodon_callback"), {"code": "c", "state": "forged"})
    assert response.status_code == 401
    assert not SocialAccount.objects.exists()


@pytest.mark.parametrize(
    "failure",
    [{"status": 500}, {"body": requests.ReadTimeout("timeout")}],
    ids=["provider-500", "timeout"],
)
@responses.activate
def test_mastodon_token_exchange_failure_links_nothing(alice_client: Client, failure: dict) -> None:
    mastodon_instance_registered()
    responses.post(f"{MASTO}/oauth/token", **failure)
    response = alice_client.post(reverse("mastodon_login"), {"instance": "social.example"})
    state = parse_qs(urlparse(response["Location"]).query)["state"][0]
    done = alice_client.get(reverse("mastodon_callback"), {"code": "c", "state": state})
    assert done.status_code == 401
    assert not SocialAccount.objects.exists()
    assert not ProviderCredential.objects.exists()


@responses.activate
def test_an_instance_that_will_not_register_us_is_explained(alice_client: Client) -> None:
    responses.post(f"{MASTO}/api/v1/apps", status=503)
    response = alice_client.post(reverse("mastodon_login"), {"instance": "social.example"})
    assert b"refused to register Klout" in response.content
    assert not MastodonApp.objects.exists()
