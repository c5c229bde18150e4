"""Helpers for accounts tests: drive the devnet provider through allauth's real flow."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse


def start_devnet_flow(client: Client, *, process: str = "connect", next_url: str = "") -> str:
    """POST the provider's login URL as the link buttons do; return the consent-screen URL."""
    data = {"process": process}
    if next_url:
        data["next"] = next_url
    response = client.post(reverse("devnet_login"), data)
    assert response.status_code == 302, response.content[:500]
    location = response["Location"]
    assert "state=" in location
    return location


def link_devnet(
    client: Client, handle: str, *, process: str = "connect", next_url: str = ""
) -> Any:
    """Link (or log in with) a devnet account with the given handle; returns the final response."""
    consent_url = start_devnet_flow(client, process=process, next_url=next_url)
    return client.post(consent_url, {"handle": handle, "display_name": handle.title()})


def link_from_mail(body: object) -> str:
    """The first http(s) link in an e-mail body, as a path."""
    match = re.search(r"https?://[^/\s]+(/\S+)", str(body))
    assert match, body
    return match.group(1)


@pytest.fixture
def devnet_linked_alice(alice_client: Client):
    """Alice has linked the devnet account @alice_dev."""
    response = link_devnet(alice_client, "alice_dev")
    assert response.status_code == 302
    return alice_client
