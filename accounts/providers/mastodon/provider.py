"""Mastodon, any instance: our OAuth app is registered per instance on first use (MastodonApp)."""

from __future__ import annotations

from typing import Any

from accounts.providers.base import OwnProvider


class MastodonProvider(OwnProvider):
    id = "mastodon"
    name = "Mastodon"

    def extract_uid(self, data: dict[str, Any]) -> str:
        # Account ids are only unique within an instance.
        return f"{data['id']}@{data['instance']}"


provider_classes = [MastodonProvider]
