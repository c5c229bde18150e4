"""Which time zone a person's hours are shown in: their setting, else their browser's, else UTC.

The browser's zone arrives in the `tz` cookie that `static/js/klout.js` sets from
`Intl.DateTimeFormat().resolvedOptions().timeZone`; it is only a default and is used only when
it names a zone this server knows.
"""

from __future__ import annotations

import functools
import zoneinfo
from urllib.parse import unquote

from django.http import HttpRequest

BROWSER_COOKIE = "tz"
UTC = "UTC"


@functools.cache
def known_zones() -> frozenset[str]:
    """Every IANA zone name the server's time-zone database knows."""
    return frozenset(zoneinfo.available_timezones()) | {UTC}


def is_known(name: str) -> bool:
    """True for an IANA zone name the server knows ("Europe/Paris")."""
    return name in known_zones()


def zone_for(request: HttpRequest) -> str:
    """The zone to show the signed-in person's hours in: their setting, else the browser's,
    else UTC."""
    chosen = str(getattr(request.user, "time_zone", "") or "")
    if is_known(chosen):
        return chosen
    browser = unquote(request.COOKIES.get(BROWSER_COOKIE, ""))
    return browser if is_known(browser) else UTC
