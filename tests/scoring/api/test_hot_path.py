"""The WSGI hot path answers exactly as Django would: the same request goes through the hot path
and through Django alone, and statuses, headers and bodies must match; whatever the hot path does
not answer reaches Django counted once."""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory, override_settings

from accounts.api_keys import day_counter, hash_key
from accounts.models import ApiKey
from accounts.services import opt_out_person
from klout.redis_client import raw_key
from klout.redis_client import raw_redis as maybe_redis
from scoring.api.documents import prime_documents
from scoring.api.hot_path import ApiHotPath
from scoring.kloutids import klout_id_of

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not settings.REDIS_URL, reason="the hot path is Redis"),
    pytest.mark.usefixtures("wsgi_keeps_the_test_connection"),
]


@dataclass
class Answer:
    status: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def comparable(self) -> tuple[str, list[tuple[str, str]], bytes]:
        """Gzip adds random bytes (BREACH mitigation): compare what was compressed instead."""
        if self.header("Content-Encoding") == "gzip":
            headers = [(k.lower(), v) for k, v in self.headers if k.lower() != "content-length"]
            return self.status, sorted(headers), gzip.decompress(self.body)
        return self.status, sorted((k.lower(), v) for k, v in self.headers), self.body


@dataclass
class Servers:
    """The project's application (hot path in front of Django) and Django alone."""

    django: WSGIHandler
    hot: ApiHotPath
    fell_through: list[str] = field(default_factory=list)


def make_servers() -> Servers:
    """Both applications, reading the settings in force now (middleware reads them once)."""
    django_app = WSGIHandler()
    passed: list[str] = []

    def spy(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        passed.append(environ["PATH_INFO"])
        return django_app(environ, start_response)

    return Servers(django=django_app, hot=ApiHotPath(spy), fell_through=passed)


@pytest.fixture
def servers() -> Servers:
    return make_servers()


def call(app: Any, path: str, headers: dict[str, str] | None = None, **extra: Any) -> Answer:
    environ = dict(RequestFactory().get(path, headers=headers, **extra).environ)
    got: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], *_: Any) -> None:
        got.update(status=status, headers=response_headers)

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return Answer(got["status"], got["headers"], body)


def raw_redis() -> Any:
    client = maybe_redis()
    assert client is not None
    return client


def reset_counts() -> None:
    client = raw_redis()
    for key in client.scan_iter(match=raw_key("quota:") + "*"):
        client.delete(key)


def calls_today(raw: str) -> int:
    key_id = ApiKey.objects.get(hashed=hash_key(raw)).pk
    value = raw_redis().get(day_counter(key_id, dt.datetime.now(tz=dt.UTC).date()))
    return int(value or 0)


def both(
    servers: Servers, path: str, headers: dict[str, str] | None = None, **extra: Any
) -> tuple[Answer, Answer]:
    """The same request through Django alone and through the hot path, each counted from zero."""
    reset_counts()
    plain = call(servers.django, path, headers, **extra)
    reset_counts()
    hot = call(servers.hot, path, headers, **extra)
    return plain, hot


@pytest.fixture
def primed(api_key, star_id, higgs_account) -> dict[str, str]:
    ApiKey.objects.update(per_second=10_000)
    prime_documents()
    return {"key": api_key, "kid": star_id, "kid2": klout_id_of(account_id=higgs_account.pk)}


# (path, headers, answered by the hot path, calls counted)
CASES: dict[str, tuple[str, dict[str, str], bool, int]] = {
    "v2 user": ("/v2/user.json/{kid}?key={key}", {}, True, 1),
    "v2 score, extras": ("/v2/user.json/{kid}/score?lang=en&key={key}&_=17", {}, True, 1),
    "v2 topics": ("/v2/user.json/{kid}/topics?key={key}", {}, True, 1),
    "v2 influence": ("/v2/user.json/{kid}/influence?key={key}", {}, True, 1),
    "v2 jsonp": ("/v2/user.json/{kid}?callback=cb.done&key={key}", {}, True, 1),
    "v2 bad callback": ("/v2/user.json/{kid}?callback=alert(1)&key={key}", {}, True, 1),
    "v2 gzip": ("/v2/user.json/{kid}?key={key}", {"Accept-Encoding": "gzip, deflate"}, True, 1),
    "v2 bad key": ("/v2/user.json/{kid}?key=klt_nope", {}, False, 0),
    "v2 unknown subject": ("/v2/user.json/987654321?key={key}", {}, False, 1),
    "modern bearer": ("/api/v1/subjects/{kid}", {"Authorization": "Bearer {key}"}, True, 1),
    "modern key=": ("/api/v1/subjects/{kid}?key={key}", {}, True, 1),
    "modern accept json": (
        "/api/v1/subjects/{kid}?key={key}",
        {"Accept": "application/json;q=0.9, text/plain"},
        True,
        1,
    ),
    "modern since": (
        "/api/v1/subjects/{kid}?key={key}",
        {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"},
        True,
        1,
    ),
    "modern accept html": ("/api/v1/subjects/{kid}?key={key}", {"Accept": "text/html"}, False, 1),
    "modern format=": ("/api/v1/subjects/{kid}?key={key}&format=json", {}, False, 1),
    "modern cookie": ("/api/v1/subjects/{kid}?key={key}", {"Cookie": "sessionid=x"}, False, 1),
    "modern no key": ("/api/v1/subjects/{kid}", {}, False, 0),
    "modern unknown": ("/api/v1/subjects/987654321?key={key}", {}, False, 1),
    "bulk": ("/api/v1/subjects?ids={kid},{kid2},{kid}&key={key}", {}, True, 1),
    "bulk with a missing id": ("/api/v1/subjects?ids={kid},987654321&key={key}", {}, False, 1),
    "bulk bad ids": ("/api/v1/subjects?ids={kid},x1&key={key}", {}, False, 1),
    "disallowed host": ("/v2/user.json/{kid}?key={key}", {"Host": "evil.example"}, False, 0),
}


@pytest.mark.parametrize("case", CASES)
def test_the_hot_path_answers_as_django_does(servers: Servers, primed, case: str) -> None:
    path, headers, answered_here, counted = CASES[case]
    path = path.format(**primed)
    headers = {k: v.format(**primed) for k, v in headers.items()}

    plain, hot = both(servers, path, headers)

    assert hot.comparable() == plain.comparable()
    assert servers.fell_through == ([] if answered_here else [path.partition("?")[0]])
    assert calls_today(primed["key"]) == counted


def test_a_matching_etag_is_304_on_both(servers: Servers, primed) -> None:
    path = "/api/v1/subjects/{kid}?key={key}".format(**primed)
    etag = call(servers.django, path).header("ETag")
    assert etag

    plain, hot = both(servers, path, {"If-None-Match": etag})

    assert hot.status == "304 Not Modified"
    assert hot.comparable() == plain.comparable()
    assert servers.fell_through == []


@pytest.mark.parametrize("path", ["/v2/user.json/{kid}?key={key}", "/api/v1/subjects/{kid}"])
def test_over_quota_is_refused_by_django_and_counted_once(servers: Servers, primed, path) -> None:
    ApiKey.objects.update(per_second=1)
    raw_redis().delete(raw_key(f"apikey:{hash_key(primed['key'])}"))  # the new quota, cached
    path = path.format(**primed)
    headers = {"Authorization": f"Bearer {primed['key']}"}
    answers = []
    for app in (servers.django, servers.hot):
        reset_counts()
        call(app, path, headers)
        answers.append(call(app, path, headers))  # the second call in the same second
    plain, hot = answers

    assert hot.status in ("403 Forbidden", "429 Too Many Requests")
    assert hot.comparable() == plain.comparable()
    assert servers.fell_through == [path.partition("?")[0]]  # the refusal is Django's
    assert calls_today(primed["key"]) == 2


def test_behind_tls_the_security_headers_match_and_plain_http_is_redirected(primed) -> None:
    path = "/api/v1/subjects/{kid}?key={key}".format(**primed)
    with override_settings(
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
        SECURE_HSTS_SECONDS=3600,
        SECURE_SSL_REDIRECT=True,
    ):
        servers = make_servers()
        plain, hot = both(servers, path, {"X-Forwarded-Proto": "https"})
        assert hot.header("Strict-Transport-Security") == "max-age=3600"
        assert hot.comparable() == plain.comparable()
        assert servers.fell_through == []

        plain, hot = both(servers, path)
        assert hot.status.startswith("301")
        assert hot.comparable() == plain.comparable()


def test_a_hidden_subject_is_404_on_the_hot_path_once_the_opt_out_commits(
    servers: Servers, api_key, twitter_star, alice, django_capture_on_commit_callbacks
) -> None:
    from tests.factories.scoring import score_history

    twitter_star.user = alice
    twitter_star.save(update_fields=["user"])
    score_history(user=alice, days=3, score=44.0)
    kid = klout_id_of(user_id=alice.pk)
    prime_documents()
    paths = [f"/v2/user.json/{kid}?key={api_key}", f"/api/v1/subjects/{kid}?key={api_key}"]
    call(servers.hot, paths[0])  # the key's record is cached on first use (by Django)
    servers.fell_through.clear()
    assert [call(servers.hot, p).status for p in paths] == ["200 OK"] * 2
    assert servers.fell_through == []

    with django_capture_on_commit_callbacks(execute=True):
        opt_out_person(user_id=alice.pk)

    assert [call(servers.hot, p).status[:3] for p in paths] == ["404"] * 2


CLOSED_PORT = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing listens
    }
}


def test_with_redis_away_the_hot_path_leaves_it_to_django_and_the_database(
    servers: Servers, primed
) -> None:
    path = "/v2/user.json/{kid}?key={key}".format(**primed)
    with override_settings(CACHES=CLOSED_PORT):
        answer = call(servers.hot, path)
    assert answer.status == "200 OK"
    assert primed["kid"].encode() in answer.body
    assert servers.fell_through == [path.partition("?")[0]]
