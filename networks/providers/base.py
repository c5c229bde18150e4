"""One interface for live networks: fetch what happened to a linked account since a cursor.

Errors say whether a retry can help (healthchecks' TransportError(permanent=...) idea): a 429 or a
5xx is transient (with the server's Retry-After / reset time when given); a 401/403 means the
person must reconnect, and retrying would only hammer the provider.

Paging: each provider follows its API's own pagination within one `fetch_since`, at most
`MAX_PAGES` pages per sync. When the budget runs out before the provider has walked back to the
old cursor, `next_cursor` is a *resume cursor* (`resume_cursor`): the old lower bound, the newest
position seen so far, and where to continue. The next sync continues from there down to the same
lower bound, and only once the gap is closed does the cursor become the newest position: nothing
between the two syncs is lost and nothing already returned is returned again as new.

Two walks per sync, each with its own cursor: `fetch_since` (what happened *to* the account:
reactions, mentions, follows) and `fetch_posts_since` (what the account itself published, with
the tags topics are inferred from). A first posts walk (empty cursor) reads only the most recent
`FIRST_POST_PAGES` pages and never leaves a resume cursor: topics need recent evidence, not a
person's whole history. Posts name only the linked account: a repost or boost of someone else's
post is skipped, and no record of another account is made from them, so their handles and names
are never changed by a posts walk.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import requests

from klout.outbound import Outbound, OutboundError, outbound
from networks.models import NetworkAccount
from networks.records import AccountRecord, InteractionRecord, PostRecord


class ProviderError(Exception):
    """A fetch failed; `transient` says whether retrying later can help."""

    def __init__(self, message: str, *, transient: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after


class CredentialRevoked(ProviderError):
    """The provider refused the token: the person must reconnect; never retried."""

    def __init__(self, message: str) -> None:
        super().__init__(message, transient=False)


@dataclass
class FetchResult:
    """Records fetched since the cursor, and the cursor to start from next time."""

    accounts: list[AccountRecord] = field(default_factory=list)
    posts: list[PostRecord] = field(default_factory=list)
    interactions: list[InteractionRecord] = field(default_factory=list)
    next_cursor: str = ""

    @property
    def has_more(self) -> bool:
        """The page budget ran out: `next_cursor` resumes a walk that is not finished yet."""
        return self.next_cursor.startswith(RESUME_PREFIX)


@dataclass(frozen=True)
class Credential:
    """What a provider needs to call the API for one account (decrypted by the caller)."""

    access_token: str


def parse_time(value: str) -> dt.datetime:
    """An ISO-8601 time from an API (with Z or an offset) as aware UTC."""
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def post_tags(raw: Any) -> tuple[str, ...]:
    """Tags as a post stores them: text without a leading '#', no blanks, each once (case kept,
    first spelling wins; the topic mapping normalises case itself)."""
    seen: set[str] = set()
    tags: list[str] = []
    for value in raw or ():
        tag = str(value or "").strip().lstrip("#").strip()
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag[:100])
    return tuple(tags)


RESUME_PREFIX = "resume:"


@dataclass(frozen=True)
class Resume:
    """A catch-up interrupted by the page budget (see the module docstring)."""

    since: str
    newest: str
    position: Any


def resume_cursor(since: str, newest: str, position: Any) -> str:
    """The cursor that makes the next sync continue at `position`, down to `since`."""
    state = {"since": since, "newest": newest, "position": position}
    return RESUME_PREFIX + json.dumps(state, sort_keys=True, separators=(",", ":"))


def parse_resume(cursor: str) -> Resume | None:
    """The interrupted catch-up a cursor describes, or None for a plain cursor."""
    if not cursor.startswith(RESUME_PREFIX):
        return None
    state = json.loads(cursor[len(RESUME_PREFIX) :])
    return Resume(str(state["since"]), str(state["newest"]), state["position"])


def readable_cursor(cursor: str) -> str:
    """The cursor itself, or "" (start over) when it is a resume cursor that cannot be read.

    Starting over loses nothing and stores nothing twice: source keys make the sync idempotent.
    """
    try:
        parse_resume(cursor)
    except (ValueError, KeyError, TypeError):
        return ""
    return cursor


def _retry_after(response: requests.Response) -> float | None:
    header = response.headers.get("Retry-After")
    if header and header.isdigit():
        return float(header)
    for name in ("x-rate-limit-reset", "x-ratelimit-reset", "ratelimit-reset"):
        reset = response.headers.get(name)
        if reset and reset.replace(".", "", 1).isdigit():
            value = float(reset)
            # Epoch seconds (X, Bluesky) or seconds from now (Reddit).
            return max(0.0, value - time.time()) if value > 1e9 else value
    return None


class Provider:
    """A live network. Subclasses implement `fetch_since` with `get_json`."""

    network: ClassVar[str]
    MAX_PAGES: ClassVar[int] = 10
    FIRST_POST_PAGES: ClassVar[int] = 3

    def __init__(self, client: Outbound | None = None) -> None:
        self.client = client or outbound()

    def fetch_since(
        self, account: NetworkAccount, credential: Credential, cursor: str
    ) -> FetchResult:
        """What happened to the account (reactions, mentions, follows) since `cursor` ("" for
        the first sync)."""
        raise NotImplementedError

    def fetch_posts_since(
        self, account: NetworkAccount, credential: Credential, cursor: str
    ) -> FetchResult:
        """The account's own public posts, with their tags, since `cursor` ("" for the first)."""
        raise NotImplementedError

    def page_budget(self, cursor: str, *, posts: bool) -> tuple[int, bool]:
        """(pages to read, whether running out of them leaves a resume cursor) for a walk.

        A first posts walk reads only the recent pages and keeps no resume position."""
        if posts and not cursor:
            return self.FIRST_POST_PAGES, False
        return self.MAX_PAGES, True

    def walk_back[T, K: (str, float)](
        self,
        cursor: str,
        fetch_page: Callable[[str], tuple[list[T], str]],
        stamp: Callable[[T], K],
        read: Callable[[T], bool],
        parse: Callable[[str], K],
        text: Callable[[K], str],
        *,
        posts: bool = False,
    ) -> str:
        """Walk newest-first pages back to `cursor`, within the page budget; return the next cursor.

        For APIs with no server-side `since`: `fetch_page(position)` returns a page's items and
        the position of the next (older) page, "" at the end; `read(item)` stores an item and says
        whether it counts as seen (skipped items do not move the cursor); `stamp` orders items,
        and `parse`/`text` turn a stamp into cursor text and back. Stops at the first item not
        newer than the cursor; out of pages first, it returns a resume cursor (not for a first
        posts walk, `posts=True` with an empty cursor: see `page_budget`).
        """
        state = parse_resume(cursor)
        since_text = state.since if state else cursor
        since = parse(since_text)
        newest = parse(state.newest if state else cursor)
        position = str(state.position) if state else ""
        pages, resumable = self.page_budget(cursor, posts=posts)
        for _ in range(pages):
            items, position = fetch_page(position)
            reached_old = False
            for item in items:
                when = stamp(item)
                if when <= since:
                    reached_old = True
                    break
                if read(item):
                    newest = max(newest, when)
            if reached_old or not position:
                return text(newest) or since_text
        if not resumable:
            return text(newest) or since_text
        return resume_cursor(since_text, text(newest), position)

    def get_json(
        self,
        url: str,
        credential: Credential,
        *,
        params: dict[str, Any] | list[tuple[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """GET a JSON document, turning HTTP failures into ProviderError."""
        body, _links = self.get_page(url, credential, params=params, headers=headers)
        return body

    def get_page(
        self,
        url: str,
        credential: Credential,
        *,
        params: dict[str, Any] | list[tuple[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[Any, dict[str, str]]:
        """GET a JSON page and its `Link` header URLs by rel ("next", "prev", "last", ...)."""
        all_headers = {"Authorization": f"Bearer {credential.access_token}", **(headers or {})}
        try:
            response = self.client.get(url, params=params, headers=all_headers)
        except OutboundError as exc:
            raise ProviderError(f"{self.network}: {exc}", transient=exc.transient) from exc
        # Messages are shown to people: plain words, never the upstream status code.
        if response.status_code in (401, 403):
            raise CredentialRevoked(f"{self.network}: the network refused our access")
        if response.status_code == 429:
            raise ProviderError(
                f"{self.network}: rate limited",
                transient=True,
                retry_after=_retry_after(response),
            )
        if response.status_code >= 500:
            raise ProviderError(
                f"{self.network}: the network is having problems",
                transient=True,
                retry_after=_retry_after(response),
            )
        if response.status_code >= 400:
            raise ProviderError(f"{self.network}: the network refused the request", transient=False)
        try:
            body = response.json()
        except ValueError as exc:
            raise ProviderError(
                f"{self.network}: the network sent an unreadable answer", transient=True
            ) from exc
        links = {rel: link["url"] for rel, link in response.links.items() if "url" in link}
        return body, links
