"""GitHub: stars, forks and issue comments on the account's own repositories, as reactions.

Every list is paged with the `Link` header (rel="next", "prev", "first", "last"; docs.github.com
"Using pagination in the REST API"); `per_page` is at most 100. Stargazers (with the
`application/vnd.github.star+json` media type, which adds `starred_at` and nests the account under
`user`; docs "REST API endpoints for starring") come oldest first, and so do forks with
`sort=oldest` (docs "List forks": sort is one of newest, oldest, stargazers, watchers): both are
walked back from rel="last" along rel="prev" until a page reaches the cursor, so new stars and
forks cost a page or two however long the list is, and a page number stays valid while new
entries are appended. Issue comments take `since` and come oldest first: they are walked forward
along rel="next".

The page budget (`MAX_PAGES`) applies to each list separately; `MAX_REPOS` bounds the lists. When a
list runs out of budget, the resume cursor keeps the URL to continue it from, and the next sync
walks only the unfinished lists.

Own posts: each public repository the account owns and did not fork is a post (`repo:<id>`),
tagged with its `topics` and its primary `language`; /user/repos takes `sort=created` and
`direction=desc`, so new repositories since the cursor (their `created_at`) cost a page. Stars,
forks and issue comments are linked to their repository's post, so they count for its topics.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from networks.models import InteractionKind, Network, NetworkAccount, PostKind
from networks.providers.base import (
    Credential,
    FetchResult,
    Provider,
    parse_resume,
    parse_time,
    post_tags,
    resume_cursor,
)
from networks.records import AccountRecord, InteractionRecord, PostRecord

API = "https://api.github.com"
STAR_JSON = {"Accept": "application/vnd.github.star+json"}
MAX_REPOS = 30
BACKWARD = {"star", "fork"}  # oldest-first lists, walked back from the last page


def repo_post(repo_id: object) -> str:
    """The post id of a repository (ids survive renames and transfers; names do not)."""
    return f"repo:{repo_id}"


def list_key(kind: str, repo: dict[str, Any]) -> str:
    """A reaction list's key: its kind, the repository's name and, for linking, its id."""
    return f"{kind}:{repo['full_name']}:{repo.get('id', '')}"


class GitHubProvider(Provider):
    network = Network.GITHUB

    def fetch_since(
        self, account: NetworkAccount, credential: Credential, cursor: str
    ) -> FetchResult:
        state = parse_resume(cursor)
        since = state.since if state else cursor
        result = FetchResult()
        newest = [state.newest if state else cursor]
        me = account.external_id

        def add(user: dict[str, Any], kind: str, when: str, key: str, post: str | None) -> bool:
            """Keep a reaction newer than the cursor; False if it is not newer."""
            if since and when <= since:
                return False
            newest[0] = max(newest[0], when)
            uid = str(user["id"])
            result.accounts.append(AccountRecord(uid, handle=str(user.get("login", ""))))
            result.interactions.append(
                InteractionRecord(uid, me, kind, parse_time(when), key, post)
            )
            return True

        # (list key, URL, query params or None when the URL carries them)
        lists: list[tuple[str, str, dict[str, Any] | None]] = []
        if state:
            lists = [(key, str(url), None) for key, url in dict(state.position).items()]
        else:
            repos = self.get_json(
                f"{API}/user/repos",
                credential,
                params={"type": "owner", "sort": "pushed", "per_page": MAX_REPOS},
            )
            for repo in repos[:MAX_REPOS]:
                name = repo["full_name"]
                comment_params: dict[str, Any] = {"per_page": 100}
                if since:
                    comment_params["since"] = since
                lists += [
                    (list_key("star", repo), f"{API}/repos/{name}/stargazers", {"per_page": 100}),
                    (
                        list_key("fork", repo),
                        f"{API}/repos/{name}/forks",
                        {"per_page": 100, "sort": "oldest"},
                    ),
                    (
                        list_key("comment", repo),
                        f"{API}/repos/{name}/issues/comments",
                        comment_params,
                    ),
                ]

        unfinished: dict[str, str] = {}
        for key, url, params in lists:
            kind, _, rest = key.partition(":")
            name, _, repo_id = rest.partition(":")
            post = repo_post(repo_id) if repo_id else None

            def read(
                items: list[dict[str, Any]],
                kind: str = kind,
                name: str = name,
                post: str | None = post,
            ) -> bool:
                """Add a page's reactions; True if some item is not newer than the cursor."""
                old = False
                for item in items:
                    if kind == "star":
                        user, when = item["user"], item["starred_at"]
                        old |= not add(
                            user, InteractionKind.LIKE, when, f"star:{name}:{user['id']}", post
                        )
                    elif kind == "fork":
                        old |= not add(
                            item["owner"],
                            InteractionKind.SHARE,
                            item["created_at"],
                            f"fork:{item['id']}",
                            post,
                        )
                    elif str(item["user"]["id"]) != me:
                        add(
                            item["user"],
                            InteractionKind.COMMENT,
                            item["created_at"],
                            f"issuecomment:{item['id']}",
                            post,
                        )
                return old

            rest = self._walk(url, params, credential, kind, read)
            if rest:
                unfinished[key] = rest
        result.next_cursor = (
            resume_cursor(since, newest[0], unfinished) if unfinished else newest[0]
        )
        return result

    def fetch_posts_since(
        self, account: NetworkAccount, credential: Credential, cursor: str
    ) -> FetchResult:
        result = FetchResult()
        me = account.external_id

        def page(position: str) -> tuple[list[dict[str, Any]], str]:
            if position:
                body, links = self.get_page(position, credential)
            else:
                params = {"type": "owner", "sort": "created", "direction": "desc", "per_page": 100}
                body, links = self.get_page(f"{API}/user/repos", credential, params=params)
            return list(body), links.get("next", "")

        def read(repo: dict[str, Any]) -> bool:
            owner = str((repo.get("owner") or {}).get("id", me))
            if repo.get("private") or repo.get("fork") or owner != me:
                return False  # not public, or not the account's own work
            language = repo.get("language")
            result.posts.append(
                PostRecord(
                    repo_post(repo["id"]),
                    me,
                    parse_time(repo["created_at"]),
                    str(repo.get("description") or repo.get("full_name") or "")[:5000],
                    PostKind.ORIGINAL,
                    post_tags([*(repo.get("topics") or []), *([language] if language else [])]),
                )
            )
            return True

        result.next_cursor = self.walk_back(
            cursor, page, lambda repo: str(repo["created_at"]), read, str, str, posts=True
        )
        return result

    def _walk(
        self,
        url: str,
        params: dict[str, Any] | None,
        credential: Credential,
        kind: str,
        read: Callable[[list[dict[str, Any]]], bool],
    ) -> str:
        """Walk one list within the page budget: "" when done, else the URL to resume from."""
        headers = STAR_JSON if kind == "star" else None
        backward = kind in BACKWARD
        if backward and params is not None:
            # A fresh walk: the first page only says where the last one is (not budgeted).
            body, links = self.get_page(url, credential, params=params, headers=headers)
            if "last" not in links:
                read(body)
                return ""
            url, params = links["last"], None
        for _ in range(self.MAX_PAGES):
            body, links = self.get_page(url, credential, params=params, headers=headers)
            params = None
            reached_old = read(body)
            following = links.get("prev" if backward else "next")
            if not following or (backward and reached_old):
                return ""
            url = following
        return url
