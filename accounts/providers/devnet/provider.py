"""The development network: link a fake account with any handle, through allauth's real flow.

Installed only while DEBUG is on (accounts/providers_config.py): it never exists in production.
"""

from __future__ import annotations

from typing import Any

from accounts.providers.base import FormProvider


class DevnetProvider(FormProvider):
    id = "devnet"
    name = "Devnet (development)"

    def extract_uid(self, data: dict[str, Any]) -> str:
        return str(data["handle"])

    def extract_common_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"display_name": data.get("display_name", "")}


provider_classes = [DevnetProvider]
