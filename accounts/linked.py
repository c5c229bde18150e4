"""What the linked-accounts page shows about each link; higher apps add their sync state."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialAccount
from django.dispatch import Signal
from django.http import HttpRequest
from django.urls import reverse

from accounts.models import ProviderCredential

# Receivers (e.g. in networks) return {(provider, uid): {"last_synced_at": datetime, ...}} for a
# user_id, in one query, so the page can show sync state without accounts importing them.
linked_account_details = Signal()
# Receivers return [{"network": value, "label": name, "slug": handle-or-id}] for the public
# accounts a person owns without a login link (claimed from an uploaded archive, or in the demo):
# they are scored with the person but not synced live.
claimed_accounts = Signal()


@dataclass
class LinkedAccount:
    """One row of the linked-accounts page."""

    account: SocialAccount
    credential: ProviderCredential | None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def needs_reconnect(self) -> bool:
        return self.credential is not None and self.credential.needs_reconnect

    @property
    def last_synced_at(self) -> datetime.datetime | None:
        return self.details.get("last_synced_at")


@dataclass(frozen=True)
class ProviderButton:
    id: str
    name: str
    url: str


def linked_accounts_for(user_id: int) -> list[LinkedAccount]:
    """The person's links with their credential state and whatever higher apps add."""
    accounts = list(SocialAccount.objects.filter(user_id=user_id).order_by("provider", "pk"))
    credentials = {
        (c.provider, c.uid): c for c in ProviderCredential.objects.filter(user_id=user_id)
    }
    details: dict[tuple[str, str], dict[str, Any]] = {}
    for _receiver, contributed in linked_account_details.send(sender=None, user_id=user_id):
        contributed_map: dict[tuple[str, str], dict[str, Any]] = contributed or {}  # type: ignore[assignment]
        for key, values in contributed_map.items():
            details.setdefault(key, {}).update(values)
    return [
        LinkedAccount(
            account=a,
            credential=credentials.get((a.provider, a.uid)),
            details=details.get((a.provider, a.uid), {}),
        )
        for a in accounts
    ]


def claimed_accounts_for(user_id: int) -> list[dict[str, str]]:
    """Accounts the person owns that no login link stands behind (as higher apps report them)."""
    rows: list[dict[str, str]] = []
    for _receiver, contributed in claimed_accounts.send(sender=None, user_id=user_id):
        rows.extend(contributed or [])  # type: ignore[arg-type]
    return rows


def provider_buttons(request: HttpRequest, *, process: str, next_url: str) -> list[ProviderButton]:
    """One start-the-flow URL per enabled provider (POST to it to begin)."""
    buttons = []
    for provider in get_adapter().list_providers(request):
        buttons.append(
            ProviderButton(
                id=provider.id,
                name=provider.name,
                url=provider.get_login_url(request, process=process, next=next_url),
            )
        )
    return sorted(buttons, key=lambda b: b.name.lower())


def linked_accounts_url() -> str:
    return reverse("linked_accounts")
