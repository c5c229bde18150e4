"""Sign-in hardening: the client address source is a production setting, our own provider forms
are rate limited, and the Mastodon callback only follows a `next` of ours."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import Client, override_settings
from django.urls import reverse

from accounts.crypto import encrypt_token
from accounts.models import MastodonApp, User
from tests.klout.test_settings import production_env

pytestmark = pytest.mark.django_db
BASE_DIR = Path(__file__).resolve().parent.parent.parent


def _settings_value(env: dict[str, str], name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", f"import klout.settings as s; print(repr(s.{name}))"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("source", "name", "value"),
    [
        ("forwarded:2", "ALLAUTH_TRUSTED_PROXY_COUNT", "2"),
        ("header:X-Real-IP", "ALLAUTH_TRUSTED_CLIENT_IP_HEADER", "'X-Real-IP'"),
        ("socket", "ALLAUTH_TRUSTED_PROXY_COUNT", "0"),
    ],
)
def test_the_client_address_source_is_a_production_setting(
    tmp_path: Path, source: str, name: str, value: str
) -> None:
    result = _settings_value(production_env(tmp_path, KLOUT_CLIENT_ADDRESS=source), name)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == value


def test_a_malformed_client_address_source_fails_loudly(tmp_path: Path) -> None:
    env = production_env(tmp_path, KLOUT_CLIENT_ADDRESS="forwarded:lots")
    result = _settings_value(env, "ALLAUTH_TRUSTED_PROXY_COUNT")
    assert result.returncode != 0
    assert "KLOUT_CLIENT_ADDRESS='forwarded:lots'" in result.stderr


@override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=1)
def test_behind_the_proxy_one_clients_failures_do_not_lock_out_another(alice: User) -> None:
    proxy = "10.0.0.2"
    attacker = Client(HTTP_X_FORWARDED_FOR="203.0.113.9", REMOTE_ADDR=proxy)
    for i in range(12):
        attacker.post(reverse("account_login"), {"login": f"x{i}@example.com", "password": "no"})
    assert attacker.post(
        reverse("account_login"), {"login": "y@example.com", "password": "no"}
    ).status_code in {429, 200}

    alice_there = Client(HTTP_X_FORWARDED_FOR="198.51.100.7", REMOTE_ADDR=proxy)
    response = alice_there.post(
        reverse("account_login"),
        {"login": alice.email, "password": "correct horse battery staple"},
    )

    assert response.status_code == 302
    assert alice_there.session["_auth_user_id"] == str(alice.pk)


def _start(client: Client, name: str) -> str:
    response = client.post(reverse(name), {"process": "connect"})
    assert response.status_code == 302
    return str(response["Location"])


def test_the_bluesky_app_password_form_is_rate_limited(alice_client: Client) -> None:
    form_url = _start(alice_client, "bluesky_login")
    # an incomplete form never calls Bluesky, but every try counts
    answers = [
        alice_client.post(form_url, {"handle": "bob.bsky.social", "app_password": ""}).status_code
        for _ in range(12)
    ]
    assert answers[0] == 200
    assert answers[-1] == 429


def test_the_mastodon_instance_form_is_rate_limited(client: Client) -> None:
    answers = [
        client.post(reverse("mastodon_login"), {"instance": "not a server"}).status_code
        for _ in range(12)
    ]
    assert answers[0] == 200
    assert answers[-1] == 429


@pytest.fixture
def mastodon_offline(monkeypatch) -> None:
    """An instance we registered with before, answering the token exchange without a network."""
    MastodonApp.objects.create(
        domain="social.example", client_id="cid", client_secret_enc=encrypt_token("csecret")
    )
    views = "accounts.providers.mastodon.views"
    monkeypatch.setattr(f"{views}.exchange_code", lambda domain, code, uri: "masto-token")
    monkeypatch.setattr(
        f"{views}.verify_credentials",
        lambda domain, token: {
            "id": "109",
            "instance": domain,
            "handle": f"alice@{domain}",
            "display_name": "Alice",
        },
    )


@pytest.mark.parametrize(
    "target", ["https://evil.example/phish", "//evil.example/", "/settings/accounts/"]
)
def test_the_mastodon_callback_follows_only_a_next_of_ours(
    alice_client: Client, alice: User, mastodon_offline, target: str
) -> None:
    started = alice_client.post(
        reverse("mastodon_login"),
        {"instance": "social.example", "process": "connect", "next": target},
    )
    state = started["Location"].split("state=", 1)[1].split("&", 1)[0]

    done = alice_client.get(reverse("mastodon_callback"), {"code": "c0de", "state": state})

    assert done.status_code == 302
    assert SocialAccount.objects.filter(user=alice).exists()
    assert "evil.example" not in done["Location"]
    if target.startswith("/settings/"):
        assert done["Location"] == target
