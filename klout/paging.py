"""Page-number paging, newest first, in one query: a page of rows and one more (are there older?).

The one pattern for every long list (a brand's audit log, notifications, +K history): `?page=N`
(1 = newest; nonsense reads as 1), "← Newer" / "Older →" links rendered by `klout/_pager.html`.
Links keep the request's other query parameters, so two lists on one page (`?given=2&received=3`)
page apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest


def page_number(raw: str | None) -> int:
    """The page asked for: a positive whole number, anything else (or absurdly large) is page 1."""
    raw = raw or "1"
    return int(raw) if raw.isdigit() and len(raw) < 9 and int(raw) > 0 else 1


@dataclass(frozen=True)
class Page[T]:
    rows: list[T]
    number: int
    newer: int | None  # page number of the newer page, None on page 1
    older: int | None  # page number of the older page, None on the last one
    newer_href: str
    older_href: str
    newest_href: str  # page 1, for a page asked for past the end

    @property
    def paged(self) -> bool:
        """Whether there is more than one page (so the pager shows)."""
        return self.newer is not None or self.older is not None


def page_of(
    request: HttpRequest, rows: QuerySet[Any], size: int, *, param: str = "page"
) -> Page[Any]:
    """One page of an already newest-first queryset, numbered by `?<param>=`."""
    number = page_number(request.GET.get(param))
    start = (number - 1) * size
    got = list(rows[start : start + size + 1])
    newer = number - 1 if number > 1 else None
    older = number + 1 if len(got) > size else None

    def href(to: int | None) -> str:
        if to is None:
            return ""
        query = request.GET.copy()
        query[param] = str(to)
        return "?" + query.urlencode()

    return Page(got[:size], number, newer, older, href(newer), href(older), href(1))
