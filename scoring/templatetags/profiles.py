"""`{% profile_url network handle account_id %}`: a link that works for any stored handle."""

from __future__ import annotations

from django import template

from scoring.queries import profile_url as _profile_url

register = template.Library()


@register.simple_tag
def profile_url(network: str, handle: str, account_id: int | str) -> str:
    """The profile's address by handle when a URL can carry it, else by the account's id."""
    return _profile_url(network, handle, account_id)
