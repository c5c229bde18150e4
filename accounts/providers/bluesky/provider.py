"""Bluesky (AT Protocol): the person signs in with their handle and an app password.

The app password is exchanged for session tokens (com.atproto.server.createSession) and never
stored; the session tokens are stored encrypted like every other provider's.
"""

from __future__ import annotations

from typing import Any

from accounts.providers.base import FormProvider


class BlueskyProvider(FormProvider):
    id = "bluesky"
    name = "Bluesky"

    def extract_uid(self, data: dict[str, Any]) -> str:
        return str(data["did"])


provider_classes = [BlueskyProvider]
