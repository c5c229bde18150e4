"""Mastodon, any instance: our OAuth app is registered per instance on first use (MastodonApp)."""

from __future__ import annotations

from typing import Any

from allauth.socialaccount.providers.base import Provider, ProviderAccount
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import urlencode


class MastodonAccount(ProviderAccount):
    def to_str(self) -> str:
        return "@" + str(self.account.extra_data.get("handle", self.account.uid))


class MastodonProvider(Provider):
    id = "mastodon"
    name = "Mastodon"
    account_class = MastodonAccount
    uses_apps = False

    def get_login_url(self, request: HttpRequest, **kwargs: Any) -> str:
        url = reverse("mastodon_login")
        if kwargs:
            url = f"{url}?{urlencode(kwargs)}"
        return url

    def extract_uid(self, data: dict[str, Any]) -> str:
        # Account ids are only unique within an instance.
        return f"{data['id']}@{data['instance']}"

    def extract_common_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {}


provider_classes = [MastodonProvider]
