"""Bluesky sign-in: handle + app password, then allauth's social login completes the link."""

from __future__ import annotations

from allauth.account.internal.decorators import login_not_required
from allauth.core.ratelimit import consume_or_429
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
from accounts.providers.bluesky.client import ACCESS_LIFETIME, BlueskyLoginError, create_session
from accounts.providers.bluesky.provider import BlueskyProvider


class BlueskyLoginView(BaseLoginView):
    provider_id = BlueskyProvider.id


login = login_not_required(BlueskyLoginView.as_view())


class AppPasswordForm(forms.Form):
    handle = forms.CharField(max_length=253, help_text="e.g. alice.bsky.social")
    app_password = forms.CharField(
        widget=forms.PasswordInput,
        help_text="Create one in Bluesky under Settings → Privacy and security → App passwords. "
        "We use it once and never store it.",
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def authenticate(request: HttpRequest) -> HttpResponse:
    """Ask for the handle and an app password; create a session; finish the social login."""
    step = begin_consent(request, BlueskyProvider.id)
    if step.response is not None:
        return step.response
    state_id, provider = step.state_id, step.provider
    if request.method == "POST":
        # Every try costs Bluesky a password check: limit guesses per client and per handle.
        handle = str(request.POST.get("handle", "")).strip().lstrip("@").lower()
        limited = consume_or_429(request, action="bluesky_app_password", key=handle)
        if limited is not None:
            return limited
    form = AppPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            session = create_session(
                form.cleaned_data["handle"].strip().lstrip("@"), form.cleaned_data["app_password"]
            )
        except BlueskyLoginError as exc:
            form.add_error(None, str(exc))
        else:
            sociallogin = provider.sociallogin_from_response(
                request, {"did": session["did"], "handle": session["handle"]}
            )
            sociallogin.token = SocialToken(
                token=session["accessJwt"],
                token_secret=session["refreshJwt"],
                expires_at=timezone.now() + ACCESS_LIFETIME,
            )
            sociallogin.state = provider.unstash_redirect_state(request, state_id)
            return complete_social_login(request, sociallogin)
    action_url = f"{reverse('bluesky_authenticate')}?{urlencode({'state': state_id})}"
    return render(
        request, "socialaccount/bluesky_authenticate.html", {"form": form, "action_url": action_url}
    )
