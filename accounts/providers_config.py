"""Which social providers are on: each only when its credentials are in the environment.

Imported by settings before apps load, so it must not import Django models.
"""

from __future__ import annotations

import os
from collections.abc import Callable

# allauth provider id -> (app module, env prefix, extra provider settings)
_BUILTIN: dict[str, tuple[str, str, dict[str, object]]] = {
    "twitter_oauth2": (
        "allauth.socialaccount.providers.twitter_oauth2",
        "X",
        {"SCOPE": ["tweet.read", "users.read", "offline.access"]},
    ),
    "google": (
        "allauth.socialaccount.providers.google",
        "GOOGLE",
        {
            "SCOPE": ["profile", "email", "https://www.googleapis.com/auth/youtube.readonly"],
            "AUTH_PARAMS": {"access_type": "offline", "prompt": "consent"},
        },
    ),
    # `history`: the person's own submissions and comments (/user/{name}/overview), topic evidence.
    "reddit": (
        "allauth.socialaccount.providers.reddit",
        "REDDIT",
        {"SCOPE": ["identity", "read", "history"]},
    ),
    "github": ("allauth.socialaccount.providers.github", "GITHUB", {"SCOPE": ["read:user"]}),
    "facebook": ("allauth.socialaccount.providers.facebook", "FACEBOOK", {"SCOPE": ["email"]}),
}

# Our own providers: id -> (app module, enabled(debug)).
_OWN: dict[str, tuple[str, Callable[[bool], bool]]] = {
    # Development only: links fake accounts without network access, through the real flow.
    "devnet": ("accounts.providers.devnet", lambda debug: debug),
    # Any instance; the app is registered per instance on first use (accounts.MastodonApp).
    "mastodon": (
        "accounts.providers.mastodon",
        lambda debug: os.environ.get("MASTODON_ENABLED", "1") not in {"0", "false", "no", "off"},
    ),
    # AT Protocol with an app password; nothing to register.
    "bluesky": (
        "accounts.providers.bluesky",
        lambda debug: os.environ.get("BLUESKY_ENABLED", "1") not in {"0", "false", "no", "off"},
    ),
}


def socialaccount_providers(debug: bool) -> tuple[dict[str, dict[str, object]], list[str]]:
    """Return allauth's SOCIALACCOUNT_PROVIDERS and the provider apps to install."""
    providers: dict[str, dict[str, object]] = {}
    apps: list[str] = []
    for provider_id, (module, prefix, extra) in _BUILTIN.items():
        client_id = os.environ.get(f"{prefix}_CLIENT_ID", "")
        secret = os.environ.get(f"{prefix}_CLIENT_SECRET", "")
        if client_id and secret:
            providers[provider_id] = {
                **extra,
                "APPS": [{"client_id": client_id, "secret": secret, "key": ""}],
            }
            apps.append(module)
    # Our own providers need no client secret in the environment.
    for provider_id, (module, enabled) in _OWN.items():
        if enabled(debug):
            providers[provider_id] = {}
            apps.append(module)
    return providers, apps
