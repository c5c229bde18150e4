"""allauth adapters: where sign-up and social linking hook into our services."""

from __future__ import annotations

from typing import Any

import requests
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from allauth.socialaccount.providers.base import AuthProcess
from django.http import HttpRequest
from django.shortcuts import render

from accounts.crypto import TokenKeyError, encrypt_token
from accounts.external_ids import network_external_id
from klout.outbound import PinnedAdapter

# Session key holding the network account whose control was just proven (opt-out without sign-up).
PROVEN_ACCOUNT_SESSION_KEY = "klout_proven_account"


class AccountAdapter(DefaultAccountAdapter):
    """E-mail sign-up with mandatory verification."""


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Social log-in and linking: tokens are encrypted before anything is saved."""

    def get_requests_session(self) -> requests.Session:
        """allauth's OAuth calls (code exchange, profile) go through klout.outbound's adapter:
        every connection, redirect hops included, only to a checked public address."""
        session: requests.Session = super().get_requests_session()
        session.trust_env = False
        adapter = PinnedAdapter(max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        """Runs before any user or link is saved: fail here and nothing is half-created."""
        if sociallogin.state.get("process") == AuthProcess.REDIRECT:
            # Proof of control only (opt-out without signing up): no user, no link, no tokens.
            request.session[PROVEN_ACCOUNT_SESSION_KEY] = {
                "provider": sociallogin.account.provider,
                "uid": sociallogin.account.uid,
                "external_id": network_external_id(
                    sociallogin.account.provider,
                    sociallogin.account.uid,
                    sociallogin.account.extra_data,
                ),
                "handle": handle_of(sociallogin),
            }
            return
        token = sociallogin.token
        try:
            # Encrypted now, saved by accounts.receivers once allauth has saved the link.
            sociallogin.klout_encrypted_tokens = (
                encrypt_token(token.token if token else ""),
                encrypt_token(token.token_secret if token else ""),
                token.expires_at if token else None,
            )
        except TokenKeyError as exc:
            raise ImmediateHttpResponse(
                render(
                    request,
                    "socialaccount/token_key_error.html",
                    {"error": str(exc)},
                    status=503,
                )
            ) from exc


def handle_of(sociallogin: SocialLogin) -> str:
    """The public handle of the account being linked, as the provider reported it."""
    data: dict[str, Any] = sociallogin.account.extra_data or {}
    for key in ("handle", "username", "screen_name", "login", "acct", "name"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    data_user = data.get("data")
    if isinstance(data_user, dict) and isinstance(data_user.get("username"), str):
        return str(data_user["username"])
    return str(sociallogin.account.uid)
