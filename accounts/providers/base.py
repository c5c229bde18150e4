"""What our own providers share: an account shown by handle, login and consent URLs by id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.helpers import render_authentication_error
from allauth.socialaccount.providers.base import Provider, ProviderAccount
from allauth.socialaccount.providers.base.constants import AuthError
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
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


@dataclass(frozen=True)
class ConsentStep:
    """The start of a form provider's consent screen: its state and provider, or a response."""

    state_id: str
    provider: Provider
    response: HttpResponse | None = None


def begin_consent(request: HttpRequest, provider_id: str) -> ConsentStep:
    """Check the OAuth-style state and handle "cancel" the same way for every form provider."""
    state_id = request.GET.get("state")
    if not state_id:
        raise PermissionDenied("missing state")
    provider = get_adapter().get_provider(request, provider_id)
    response = None
    if request.method == "POST" and request.POST.get("action") == "cancel":
        response = render_authentication_error(
            request, provider, error=AuthError.CANCELLED, extra_context={"state_id": state_id}
        )
    return ConsentStep(state_id, provider, response)
