"""Walk the seeded demo as each kind of demo user and list every internal link that breaks.

Run inside a configured Django (`manage.py shell -c "from tests.demo_crawl import main; main()"`)
against a database `seed_demo` filled: it signs in as a person, a brand member and staff, and
visits as an anonymous visitor too, following same-origin links (GET only) from the pages each of
them starts at. Prints one line per broken link (5xx, or 404 from a link a page showed) and exits
non-zero if there is any; `tests/klout/test_make_run.py` runs it on the fresh demo.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit, urlunsplit

DEMO_USERS = {
    "visitor": None,
    "person": "alice@demo.klout.local",
    "brand": "brand@demo.klout.local",
    "staff": "staff@demo.klout.local",
}
STARTS = ["/", "/dashboard/", "/brands/", "/staff/runs/", "/topics/", "/leaderboard/", "/perks/"]
# Pages of one kind (a profile, a topic, a leaderboard page) are all rendered by one view: a few of
# each find a broken template as surely as all of them, and keep the walk to seconds.
SAME_KIND = re.compile(r"^/(?:u|p|topics|badge|achievements/art)/")
NUMBER = re.compile(r"\d+")
PER_KIND = 3
SKIP = ("/static/", "/admin/", "/accounts/logout/")
HOST = "localhost"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def _kind(path: str) -> str:
    head = SAME_KIND.match(path)
    return head.group(0) if head else NUMBER.sub("N", path)


def walk(email: str | None) -> tuple[int, list[str]]:
    """Pages visited and the broken links found, as `who` would meet them."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client(HTTP_HOST=HOST, raise_request_exception=False)
    if email:
        client.force_login(get_user_model().objects.get(email=email))
    queue: list[tuple[str, str]] = [(url, "(start)") for url in STARTS]
    seen: set[str] = set()
    kinds: Counter[str] = Counter()
    broken: list[str] = []
    while queue:
        url, source = queue.pop(0)
        path = urlsplit(url).path
        if url in seen or kinds[_kind(path)] >= PER_KIND:
            continue
        seen.add(url)
        kinds[_kind(path)] += 1
        response = client.get(url, follow=True)
        status = response.status_code
        if status >= 500 or (status == 404 and source != "(start)"):
            broken.append(f"{status} {url} (linked from {source})")
            continue
        if "html" not in response.get("Content-Type", ""):
            continue
        parser = _Links()
        parser.feed(response.content.decode(errors="replace"))
        page = response.request["PATH_INFO"]
        for href in parser.hrefs:
            target = urlsplit(urljoin(f"http://{HOST}{page}", href))
            if target.scheme not in ("http", "https") or target.netloc != HOST:
                continue
            if target.path.startswith(SKIP):
                continue
            link = urlunsplit(("", "", target.path, target.query, ""))
            if link not in seen:
                queue.append((link, page))
    return len(seen), broken


def main() -> None:
    failures = []
    for who, email in DEMO_USERS.items():
        visited, broken = walk(email)
        print(f"{who}: {visited} pages, {len(broken)} broken")
        failures += [f"{who}: {line}" for line in broken]
    for line in failures:
        print(line)
    if failures:
        sys.exit(1)
