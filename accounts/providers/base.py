"""What our own providers share: an account shown by handle, login and consent URLs by id."""

from __future__ import annotations

from typing import Any

from allauth.socialaccount.providers.base import Provider, ProviderAccount
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode


class HandleAccount(ProviderAccount):
    """A linked account shown as @handle."""

    def to_str(self) -> str:
        return "@" + str(self.account.extra_data.get("handle", self.account.uid))


class OwnProvider(Provider):
    """A provider of ours: its views are named `<id>_login` (and `<id>_authenticate`)."""

    account_class = HandleAccount
    uses_apps = False

    def get_login_url(self, request: HttpRequest, **kwargs: Any) -> str:
        url = reverse(f"{self.id}_login")
        if kwargs:
            url = f"{url}?{urlencode(kwargs)}"
        return url

    def extract_common_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {}


class FormProvider(OwnProvider):
    """A provider whose consent step is a form of ours; the state travels exactly as in OAuth."""

    supports_redirect = True

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
        return HttpResponseRedirect(f"{reverse(f'{self.id}_authenticate')}?{query}")
