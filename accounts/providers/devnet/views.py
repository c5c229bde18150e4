"""The devnet 'consent screen': choose a handle, then finish allauth's social login."""

from __future__ import annotations

import datetime
import re
import secrets
from typing import Any

from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.helpers import complete_social_login
from allauth.socialaccount.models import SocialToken
from allauth.socialaccount.providers.base.views import BaseLoginView
from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from accounts.providers.base import begin_consent
from accounts.providers.devnet.provider import DevnetProvider

_HANDLE = re.compile(r"^[a-z0-9_]{2,30}$")


class DevnetLoginView(BaseLoginView):
    provider_id = DevnetProvider.id


login = login_not_required(DevnetLoginView.as_view())


class DevnetAuthorizeForm(forms.Form):
    handle = forms.CharField(
        max_length=30, help_text="2-30 lowercase letters, digits or underscores."
    )
    display_name = forms.CharField(max_length=100, required=False)

    def clean_handle(self) -> str:
        handle = self.cleaned_data["handle"].strip().lstrip("@").lower()
        if not _HANDLE.match(handle):
            raise forms.ValidationError("Use 2-30 lowercase letters, digits or underscores.")
        return handle


@login_not_required
@require_http_methods(["GET", "POST"])
def authenticate(request: HttpRequest) -> HttpResponse:
    """Pretend to be the network: the person picks the handle they 'control'."""
    step = begin_consent(request, DevnetProvider.id)
    if step.response is not None:
        return step.response
    state_id, provider = step.state_id, step.provider
    form = DevnetAuthorizeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data: dict[str, Any] = {
            "handle": form.cleaned_data["handle"],
            "display_name": form.cleaned_data["display_name"] or form.cleaned_data["handle"],
        }
        sociallogin = provider.sociallogin_from_response(request, data)
        sociallogin.token = SocialToken(
            token="devnet-access-" + secrets.token_urlsafe(16),
            token_secret="devnet-refresh-" + secrets.token_urlsafe(16),
            expires_at=timezone.now() + datetime.timedelta(hours=1),
        )
        # A forged or replayed state raises PermissionDenied: no user, no link.
        sociallogin.state = provider.unstash_redirect_state(request, state_id)
        return complete_social_login(request, sociallogin)
    action_url = f"{reverse('devnet_authenticate')}?{urlencode({'state': state_id})}"
    return render(
        request,
        "socialaccount/devnet_authenticate.html",
        {"form": form, "action_url": action_url},
    )
