"""The provider registry: one live network per module, behind `Provider.fetch_since`."""

from __future__ import annotations

from networks.providers.base import (
    Credential,
    CredentialRevoked,
    FetchResult,
    Provider,
    ProviderError,
)
from networks.providers.bluesky import BlueskyProvider
from networks.providers.github import GitHubProvider
from networks.providers.mastodon import MastodonProvider
from networks.providers.reddit import RedditProvider
from networks.providers.x import XProvider
from networks.providers.youtube import YouTubeProvider

PROVIDERS: dict[str, type[Provider]] = {
    cls.network: cls
    for cls in (
        XProvider,
        MastodonProvider,
        BlueskyProvider,
        RedditProvider,
        GitHubProvider,
        YouTubeProvider,
    )
}

__all__ = [
    "PROVIDERS",
    "Credential",
    "CredentialRevoked",
    "FetchResult",
    "Provider",
    "ProviderError",
    "provider_for",
]


def provider_for(network: str) -> Provider | None:
    """A provider instance for a network, or None when it has no live API here."""
    cls = PROVIDERS.get(network)
    return cls() if cls is not None else None
