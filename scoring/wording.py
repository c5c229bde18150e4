"""How an explanation says why a score moved, in words people read.

The engine names people and posts by dense index; here they become handles and post snippets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scoring.engine.types import Driver


def words(
    driver: Driver, person: int, handles: Sequence[str], moments: list[list[dict[str, Any]]]
) -> str:
    """Engine drivers name people and posts by index; say their handles and words instead."""
    if driver.kind == "person":
        text: str = driver.text
        who = text.rsplit("#", 1)[-1]
        if who.isdigit() and int(who) < len(handles):
            return f"your strongest reactor is @{handles[int(who)]}"
    if driver.kind == "post" and moments[person]:
        top = moments[person][0]
        about = f" “{top['text']}”" if top["text"] else ""
        return f"your post{about} drove {top['actions']} actions"
    return str(driver.text)
