"""Talking to a Mastodon instance: app registration, code exchange, who am I."""

from __future__ import annotations

import re
from typing import Any

import requests
from django.db import IntegrityError

from accounts.crypto import decrypt_token, encrypt_token
from accounts.models import MastodonApp
from klout.outbound import OutboundError, outbound

SCOPES = "read"
_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$")


class MastodonError(Exception):
    """The instance could not be used; the message is safe to show."""


def normalise_instance(raw: str) -> str:
    """'https://Mastodon.Social/@bob' or '@bob@mastodon.social' -> 'mastodon.social'."""
    text = raw.strip().lower()
    if "@" in text and "://" not in text:
        text = text.rsplit("@", 1)[1]
    text = re.sub(r"^https?://", "", text).split("/", 1)[0]
    if not _DOMAIN.match(text):
        raise MastodonError(f"“{raw}” is not a Mastodon server name like mastodon.social.")
    return text


def actor_uri_of(domain: str, data: dict[str, Any]) -> str:
    """The account's ActivityPub actor URI: the one id others' data (outboxes, notifications)
    use for it. Mastodon 4.2+ sends it as `uri`; older servers serve it at /users/<username>."""
    uri = data.get("uri")
    if isinstance(uri, str) and uri.startswith("https://") and "/" in uri[len("https://") :]:
        return uri
    return f"https://{domain}/users/{data['username']}"


def _call(method: str, url: str, **kwargs: Any) -> requests.Response:
    """One request through the outbound client; its failures become a MastodonError."""
    try:
        return outbound().request(method, url, **kwargs)
    except OutboundError as exc:
        if exc.transient:
            raise MastodonError(
                "That server did not answer. Check the name or try again."
            ) from None
        raise MastodonError(f"We cannot use that server: {exc}.") from None


def _post(url: str, **kwargs: Any) -> requests.Response:
    return _call("POST", url, **kwargs)


def app_for(domain: str, redirect_uri: str) -> tuple[str, str]:
    """Our (client_id, client_secret) on an instance, registering the app on first use."""
    existing = MastodonApp.objects.filter(domain=domain).first()
    if existing is not None:
        return existing.client_id, decrypt_token(existing.client_secret_enc)
    response = _post(
        f"https://{domain}/api/v1/apps",
        data={
            "client_name": "Klout",
            "redirect_uris": redirect_uri,
            "scopes": SCOPES,
            "website": redirect_uri.split("/accounts/", 1)[0],
        },
    )
    if response.status_code != 200:
        raise MastodonError(f"{domain} refused to register Klout.")
    try:
        payload = response.json()
        client_id, secret = str(payload["client_id"]), str(payload["client_secret"])
    except (ValueError, KeyError, TypeError):
        raise MastodonError(f"{domain} does not look like a Mastodon server.") from None
    try:
        MastodonApp.objects.create(
            domain=domain, client_id=client_id, client_secret_enc=encrypt_token(secret)
        )
    except IntegrityError:
        # Another request registered it first; use theirs.
        return app_for(domain, redirect_uri)
    return client_id, secret


def exchange_code(domain: str, code: str, redirect_uri: str) -> str:
    """Trade the authorization code for an access token (Mastodon tokens do not expire)."""
    client_id, secret = app_for(domain, redirect_uri)
    response = _post(
        f"https://{domain}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client_id,
            "client_secret": secret,
            "redirect_uri": redirect_uri,
            "scope": SCOPES,
        },
    )
    if response.status_code != 200:
        raise MastodonError(f"{domain} did not accept the sign-in.")
    try:
        return str(response.json()["access_token"])
    except (ValueError, KeyError, TypeError):
        raise MastodonError(f"{domain} sent an unreadable token.") from None


def verify_credentials(domain: str, access_token: str) -> dict[str, Any]:
    """The signed-in account: id, username, display name."""
    response = _call(
        "GET",
        f"https://{domain}/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {access_token}"},
    )
    if response.status_code != 200:
        raise MastodonError(f"{domain} did not tell us who you are. Try again.")
    try:
        data = response.json()
        return {
            "id": str(data["id"]),
            "instance": domain,
            "handle": f"{data['username']}@{domain}",
            "display_name": str(data.get("display_name", "")),
            "actor_uri": actor_uri_of(domain, data),
        }
    except (ValueError, KeyError, TypeError):
        raise MastodonError(f"{domain} sent an unreadable account.") from None
