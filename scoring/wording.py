"""How an explanation says why a score moved, in words people read.

Two moments: when a run is written, engine drivers become stored sentences that name nobody
(`words`: a sentence about another person keeps a reference to their account); when a page is
shown, the sentences are rendered (`render_explanations`), naming a referenced person only while
the one "hidden" rule (`NetworkAccount.objects.visible`) lets them be shown. A hidden person is
never named: their sentence is left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scoring.engine.types import Driver, PersonRef

if TYPE_CHECKING:
    from scoring.models import Explanation


def words(
    driver: Driver, person: int, account_ids: Sequence[int], moments: list[list[dict[str, Any]]]
) -> tuple[str, int | None]:
    """The stored sentence of a driver of `person`'s change, and the account it is about.

    `account_ids` maps the engine's dense person indexes to account ids; `moments` holds each
    person's top posts (their own words, so they may be quoted).
    """
    about = driver.about
    if isinstance(about, PersonRef):
        known = 0 <= about.person < len(account_ids)
        return driver.text, int(account_ids[about.person]) if known else None
    if driver.kind == "post" and moments[person]:
        top = moments[person][0]
        quoted = f" “{top['text']}”" if top["text"] else ""
        return f"your post{quoted} drove {top['actions']} actions", None
    return driver.text, None


@dataclass(frozen=True)
class ExplanationLine:
    """One sentence as a page shows it."""

    points: float
    text: str


def render_explanations(
    rows: Iterable[Explanation], shown: Mapping[int, str]
) -> list[ExplanationLine]:
    """The sentences a page shows, in order. `shown` maps the referenced accounts that may be
    named today to their handles; a sentence about anyone else is left out."""
    lines: list[ExplanationLine] = []
    for row in rows:
        if row.kind == "person":
            handle = shown.get(row.about_account_id) if row.about_account_id else None
            if handle:
                lines.append(ExplanationLine(row.points, f"{row.text} is @{handle}"))
            continue
        lines.append(ExplanationLine(row.points, row.text))
    return lines
