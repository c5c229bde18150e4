"""Bluesky (AT Protocol): the person signs in with their handle and an app password.

The app password is exchanged for session tokens (com.atproto.server.createSession) and never
stored; the session tokens are stored encrypted like every other provider's.
"""

from __future__ import annotations

from typing import Any

from allauth.socialaccount.providers.base import Provider, ProviderAccount
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode


class BlueskyAccount(ProviderAccount):
    def to_str(self) -> str:
        return "@" + str(self.account.extra_data.get("handle", self.account.uid))


class BlueskyProvider(Provider):
    id = "bluesky"
    name = "Bluesky"
    account_class = BlueskyAccount
    uses_apps = False
    supports_redirect = True

    def get_login_url(self, request: HttpRequest, **kwargs: Any) -> str:
        url = reverse("bluesky_login")
        if kwargs:
            url = f"{url}?{urlencode(kwargs)}"
        return url

    def redirect(
        self,
        request: HttpRequest,
        process: str,
        next_url: str | None = None,
        data: Any = None,
        **kwargs: Any,
    ) -> HttpResponseRedirect:
        state_id = self.stash_redirect_state(
            request, process, next_url=next_url, data=data, **kwargs
        )
        query = urlencode({"state": state_id})
        return HttpResponseRedirect(f"{reverse('bluesky_authenticate')}?{query}")

    def extract_uid(self, data: dict[str, Any]) -> str:
        return str(data["did"])

    def extract_common_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {}


provider_classes = [BlueskyProvider]
