"""GitHub: stars, forks and issue comments on the account's own repositories, as reactions."""

from __future__ import annotations

from networks.models import InteractionKind, Network, NetworkAccount
from networks.providers.base import Credential, FetchResult, Provider, parse_time
from networks.records import AccountRecord, InteractionRecord

API = "https://api.github.com"
STAR_JSON = {"Accept": "application/vnd.github.star+json"}
MAX_REPOS = 30


class GitHubProvider(Provider):
    network = Network.GITHUB

    def fetch_since(
        self, account: NetworkAccount, credential: Credential, cursor: str
    ) -> FetchResult:
        result = FetchResult()
        newest = cursor
        repos = self.get_json(
            f"{API}/user/repos",
            credential,
            params={"type": "owner", "sort": "pushed", "per_page": MAX_REPOS},
        )
        me = account.external_id

        def add(user: dict[str, object], kind: str, when: str, key: str) -> None:
            nonlocal newest
            if cursor and when <= cursor:
                return
            newest = max(newest, when)
            uid = str(user["id"])
            result.accounts.append(AccountRecord(uid, handle=str(user.get("login", ""))))
            result.interactions.append(InteractionRecord(uid, me, kind, parse_time(when), key))

        for repo in repos[:MAX_REPOS]:
            name = repo["full_name"]
            stars = self.get_json(
                f"{API}/repos/{name}/stargazers",
                credential,
                params={"per_page": 100},
                headers=STAR_JSON,
            )
            for star in stars:
                add(
                    star["user"],
                    InteractionKind.LIKE,
                    star["starred_at"],
                    f"star:{name}:{star['user']['id']}",
                )
            for fork in self.get_json(
                f"{API}/repos/{name}/forks", credential, params={"per_page": 100}
            ):
                add(fork["owner"], InteractionKind.SHARE, fork["created_at"], f"fork:{fork['id']}")
            params = {"per_page": 100, **({"since": cursor} if cursor else {})}
            for comment in self.get_json(
                f"{API}/repos/{name}/issues/comments", credential, params=params
            ):
                if str(comment["user"]["id"]) != me:
                    add(
                        comment["user"],
                        InteractionKind.COMMENT,
                        comment["created_at"],
                        f"issuecomment:{comment['id']}",
                    )
        result.next_cursor = newest
        return result
