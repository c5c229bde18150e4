"""How each provider refreshes an access token. Errors say whether a retry can help."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.models import ProviderCredential
from klout.outbound import OutboundError, outbound


@dataclass(frozen=True)
class TokenSet:
    """What a successful refresh returns."""

    access_token: str
    refresh_token: str
    expires_at: datetime.datetime | None


class RefreshRefused(Exception):
    """The provider rejected the refresh token: only the person can fix it by reconnecting."""


class RefreshFailed(Exception):
    """The provider or network failed for now (5xx, timeout): retry later, keep the credential."""


Refresher = Callable[[ProviderCredential, str], TokenSet]
_REFRESHERS: dict[str, Refresher] = {}


def register_refresher(provider_id: str, refresher: Refresher) -> None:
    """Let a provider (e.g. our own Bluesky one) say how its tokens are refreshed."""
    _REFRESHERS[provider_id] = refresher


def refresher_for(provider_id: str) -> Refresher | None:
    """The refresher for a provider, or None when its tokens do not expire."""
    return _REFRESHERS.get(provider_id)


def _client_credentials(provider_id: str) -> tuple[str, str]:
    config: dict[str, Any] = settings.SOCIALACCOUNT_PROVIDERS.get(provider_id, {})
    apps: list[dict[str, str]] = config.get("APPS", [])
    if not apps:
        raise RefreshFailed(f"{provider_id} is not configured (no client id/secret)")
    return apps[0]["client_id"], apps[0]["secret"]


def oauth2_refresher(token_url: str, *, basic_auth: bool) -> Refresher:
    """A standard OAuth 2 refresh_token grant against `token_url`."""

    def refresh(credential: ProviderCredential, refresh_token: str) -> TokenSet:
        client_id, secret = _client_credentials(credential.provider)
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        auth = None
        if basic_auth:
            auth = (client_id, secret)
        else:
            data |= {"client_id": client_id, "client_secret": secret}
        try:
            response = outbound().post(
                token_url, data=data, auth=auth, headers={"Accept": "application/json"}
            )
        except OutboundError as exc:
            if not exc.transient:
                raise RefreshRefused(f"{credential.provider}: {exc}") from exc
            raise RefreshFailed(f"{credential.provider}: {exc}") from exc
        if response.status_code in {400, 401, 403}:
            raise RefreshRefused(f"{credential.provider} refused the refresh token")
        if response.status_code != 200:
            raise RefreshFailed(f"{credential.provider} had a problem; we will try again")
        try:
            payload = response.json()
            access_token = str(payload["access_token"])
        except (ValueError, KeyError, TypeError):
            raise RefreshFailed(
                f"{credential.provider} sent an unreadable token response"
            ) from None
        expires_in = payload.get("expires_in")
        return TokenSet(
            access_token=access_token,
            # Providers that rotate refresh tokens send a new one; others keep the old.
            refresh_token=str(payload.get("refresh_token") or refresh_token),
            expires_at=timezone.now() + datetime.timedelta(seconds=int(expires_in))
            if expires_in
            else None,
        )

    return refresh


def _devnet_refresh(credential: ProviderCredential, refresh_token: str) -> TokenSet:
    """The development network hands out a new token without any network access."""
    if not refresh_token.startswith("devnet-refresh-"):
        raise RefreshRefused("devnet does not know this refresh token")
    return TokenSet(
        access_token="devnet-access-" + secrets.token_urlsafe(16),
        refresh_token=refresh_token,
        expires_at=timezone.now() + datetime.timedelta(hours=1),
    )


register_refresher(
    "twitter_oauth2", oauth2_refresher("https://api.x.com/2/oauth2/token", basic_auth=True)
)
register_refresher(
    "google", oauth2_refresher("https://oauth2.googleapis.com/token", basic_auth=False)
)
register_refresher(
    "reddit", oauth2_refresher("https://www.reddit.com/api/v1/access_token", basic_auth=True)
)
register_refresher(
    "github", oauth2_refresher("https://github.com/login/oauth/access_token", basic_auth=False)
)
register_refresher("devnet", _devnet_refresh)
