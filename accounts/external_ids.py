"""Which id the network store knows a linked account by (kept beside allauth's uid)."""

from __future__ import annotations

from typing import Any


def network_external_id(provider: str, uid: str, extra_data: dict[str, Any] | None) -> str:
    """The id the network store knows a linked account by, recorded beside allauth's uid.

    Mastodon's allauth uid is `id@host` (ids are unique per server only); everyone else's data
    names the account by its actor URI, so that is the network account's one external id.
    """
    if provider == "mastodon":
        data = extra_data or {}
        actor = data.get("actor_uri")
        if isinstance(actor, str) and actor.startswith("https://"):
            return actor
        # Linked before the actor URI was recorded: the form older servers use (as the data
        # migration networks 0010 assumes).
        handle = data.get("handle")
        if isinstance(handle, str) and handle.count("@") == 1:
            name, host = handle.split("@")
            if name and host:
                return f"https://{host}/users/{name}"
    return str(uid)
