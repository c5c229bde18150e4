"""The two AT Protocol calls we need: create a session and refresh it."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.models import ProviderCredential
from accounts.token_refresh import RefreshFailed, RefreshRefused, TokenSet, register_refresher
from klout.outbound import OutboundError, outbound

# Access JWTs live about two hours; refresh a little before.
ACCESS_LIFETIME = datetime.timedelta(minutes=100)


def pds_url() -> str:
    """The PDS (or entryway) we talk to; bsky.social serves every bsky.social-hosted account."""
    return str(settings.BLUESKY_PDS_URL).rstrip("/")


class BlueskyLoginError(Exception):
    """createSession failed; `permanent` says whether retrying with the same input can help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def create_session(identifier: str, app_password: str) -> dict[str, Any]:
    """Exchange a handle and app password for session tokens and the account's DID."""
    try:
        response = outbound().post(
            f"{pds_url()}/xrpc/com.atproto.server.createSession",
            json={"identifier": identifier, "password": app_password},
        )
    except OutboundError:
        raise BlueskyLoginError(
            "Bluesky did not answer. Try again in a minute.", permanent=False
        ) from None
    if response.status_code in {400, 401}:
        raise BlueskyLoginError(
            "Bluesky did not accept that handle and app password.", permanent=True
        )
    if response.status_code != 200:
        raise BlueskyLoginError("Bluesky had a problem. Try again in a minute.", permanent=False)
    try:
        data = response.json()
        return {
            "did": str(data["did"]),
            "handle": str(data["handle"]),
            "accessJwt": str(data["accessJwt"]),
            "refreshJwt": str(data["refreshJwt"]),
        }
    except (ValueError, KeyError, TypeError):
        raise BlueskyLoginError("Bluesky sent an unreadable answer.", permanent=False) from None


def refresh_session(credential: ProviderCredential, refresh_token: str) -> TokenSet:
    """com.atproto.server.refreshSession: new access and refresh JWTs."""
    try:
        response = outbound().post(
            f"{pds_url()}/xrpc/com.atproto.server.refreshSession",
            headers={"Authorization": f"Bearer {refresh_token}"},
        )
    except OutboundError as exc:
        if not exc.transient:
            raise RefreshRefused(f"bluesky: {exc}") from exc
        raise RefreshFailed(f"bluesky: {exc}") from exc
    if response.status_code in {400, 401}:
        raise RefreshRefused("bluesky refused the session")
    if response.status_code != 200:
        raise RefreshFailed("bluesky had a problem; we will try again")
    try:
        data = response.json()
        return TokenSet(
            access_token=str(data["accessJwt"]),
            refresh_token=str(data["refreshJwt"]),
            expires_at=timezone.now() + ACCESS_LIFETIME,
        )
    except (ValueError, KeyError, TypeError):
        raise RefreshFailed("bluesky sent an unreadable session") from None


register_refresher("bluesky", refresh_session)
