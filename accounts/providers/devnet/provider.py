"""The development network: link a fake account with any handle, through allauth's real flow.

Installed only while DEBUG is on (accounts/providers_config.py): it never exists in production.
"""

from __future__ import annotations

from typing import Any

from allauth.socialaccount.providers.base import Provider, ProviderAccount
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode


class DevnetAccount(ProviderAccount):
    def to_str(self) -> str:
        return "@" + str(self.account.extra_data.get("handle", self.account.uid))


class DevnetProvider(Provider):
    id = "devnet"
    name = "Devnet (development)"
    account_class = DevnetAccount
    uses_apps = False
    supports_redirect = True

    def get_login_url(self, request: HttpRequest, **kwargs: Any) -> str:
        url = reverse("devnet_login")
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
        # Stands in for the provider's consent screen; the state travels exactly as in OAuth.
        state_id = self.stash_redirect_state(
            request, process, next_url=next_url, data=data, **kwargs
        )
        return HttpResponseRedirect(
            f"{reverse('devnet_authenticate')}?{urlencode({'state': state_id})}"
        )

    def extract_uid(self, data: dict[str, Any]) -> str:
        return str(data["handle"])

    def extract_common_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"display_name": data.get("display_name", "")}


provider_classes = [DevnetProvider]
