"""allauth adapters: where sign-up and social linking hook into our services."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """E-mail sign-up with mandatory verification."""


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Social log-in and linking."""
