"""The kinds of notice a person can turn off one by one, registered by the apps that send them.

Accounts is the lowest app and cannot know what higher apps tell people, so each registers its
kinds (`register_notice_kind`) in its AppConfig.ready; the notification settings page offers them
and the pipeline (`accounts.services.send_notices` / `send_notice_rows`) drops a muted kind.
"""

from __future__ import annotations

_KINDS: dict[str, str] = {}


def register_notice_kind(kind: str, label: str) -> None:
    """Offer `kind` ("score_moved") on the settings page as `label` ("My score moved")."""
    _KINDS[kind] = label


def notice_kinds() -> list[tuple[str, str]]:
    """(kind, label) of every registered kind, in registration order."""
    return list(_KINDS.items())
