"""Mastodon OAuth 2 with a per-instance app: ask for the instance, then the usual code flow."""

from __future__ import annotations

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.internal.decorators import login_not_required
from allauth.core.ratelimit import consume_or_429
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.helpers import complete_social_login, render_authentication_error
from allauth.socialaccount.internal import statekit
from allauth.socialaccount.models import SocialToken
from allauth.socialaccount.providers.base.constants import AuthError
from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods

from accounts.providers.mastodon.client import (
    SCOPES,
    MastodonError,
    app_for,
    exchange_code,
    normalise_instance,
    verify_credentials,
)
from accounts.providers.mastodon.provider import MastodonProvider


class InstanceForm(forms.Form):
    instance = forms.CharField(
        max_length=300, label="Your Mastodon server", help_text="e.g. mastodon.social"
    )
    process = forms.CharField(widget=forms.HiddenInput, required=False)
    next = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_instance(self) -> str:
        try:
            return normalise_instance(self.cleaned_data["instance"])
        except MastodonError as exc:
            raise forms.ValidationError(str(exc)) from None


def _safe_next(request: HttpRequest, url: str | None) -> str | None:
    """Where to go afterwards, if it is a URL of ours (checked as allauth checks its own `next`)."""
    if url and get_account_adapter(request).is_safe_url(url):
        return url
    return None


def _callback_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("mastodon_callback"))


@login_not_required
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    """Ask which server; register our app there if needed; send the person to authorize."""
    initial = {"process": request.GET.get("process", "login"), "next": request.GET.get("next", "")}
    if "instance" in request.POST:
        # Each try makes us call the named server (and register an app there): limit per client.
        limited = consume_or_429(request, action="mastodon_instance")
        if limited is not None:
            return limited
    form = InstanceForm(request.POST if "instance" in request.POST else None, initial=initial)
    if form.is_bound and form.is_valid():
        domain = form.cleaned_data["instance"]
        try:
            client_id, _secret = app_for(domain, _callback_url(request))
        except MastodonError as exc:
            form.add_error("instance", str(exc))
        else:
            provider = get_adapter().get_provider(request, MastodonProvider.id)
            state_id = provider.stash_redirect_state(
                request,
                form.cleaned_data["process"] or "login",
                next_url=_safe_next(request, form.cleaned_data["next"]),
                data={"instance": domain},
            )
            query = urlencode(
                {
                    "client_id": client_id,
                    "redirect_uri": _callback_url(request),
                    "response_type": "code",
                    "scope": SCOPES,
                    "state": state_id,
                }
            )
            return HttpResponseRedirect(f"https://{domain}/oauth/authorize?{query}")
    return render(request, "socialaccount/mastodon_instance.html", {"form": form})


@login_not_required
@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    """The instance sends the person back with a code; a bad or missing state links nothing."""
    provider = get_adapter().get_provider(request, MastodonProvider.id)
    state_id = request.GET.get("state", "")
    state = (
        statekit.unstash_state(request, provider_id=provider.sub_id, state_id=state_id)
        if state_id
        else None
    )
    if state is None:
        return render_authentication_error(request, provider, error=AuthError.UNKNOWN)
    state["next"] = _safe_next(request, state.get("next"))
    if "error" in request.GET or not request.GET.get("code"):
        return render_authentication_error(
            request, provider, error=AuthError.CANCELLED, extra_context={"state": state}
        )
    domain = (state.get("data") or {}).get("instance", "")
    try:
        access_token = exchange_code(domain, request.GET["code"], _callback_url(request))
        account = verify_credentials(domain, access_token)
    except MastodonError as exc:
        return render_authentication_error(
            request,
            provider,
            error=AuthError.UNKNOWN,
            exception=exc,
            extra_context={"state": state},
        )
    sociallogin = provider.sociallogin_from_response(request, account)
    sociallogin.token = SocialToken(token=access_token)
    sociallogin.state = state
    return complete_social_login(request, sociallogin)
