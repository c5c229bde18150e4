"""`responses` matchers shared by the provider tests."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit


def query(expected: dict[str, str | None]):
    """A `responses` matcher: these query parameters have these values (None: absent)."""

    def match(request) -> tuple[bool, str]:
        got = parse_qs(urlsplit(request.url).query)
        for name, value in expected.items():
            if value is None and name in got:
                return False, f"{name} should be absent"
            if value is not None and got.get(name) != [value]:
                return False, f"{name}={got.get(name)}, wanted {value}"
        return True, ""

    return match
