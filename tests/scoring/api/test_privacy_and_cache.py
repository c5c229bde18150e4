"""Privacy and the hot path: hidden subjects are 404 everywhere the moment the opt-out commits;
single lookups are served from the answers cached at publish without a database query, and from
the database when Redis is away."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from accounts.models import ApiKey
from accounts.services import opt_out_person
from networks.services import set_account_protected
from scoring.api.documents import prime_documents
from scoring.kloutids import klout_id_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _roomy_quota(api_key) -> None:
    ApiKey.objects.update(per_second=10_000)


needs_redis = pytest.mark.skipif(not settings.REDIS_URL, reason="the hot path is Redis")


def all_paths(kid: str, name: str, twitter_id: str) -> list[str]:
    return [
        f"/v2/identity.json/twitter?screenName={name}",
        f"/v2/identity.json/tw/{twitter_id}",
        f"/v2/identity.json/ks/{kid}",
        f"/v2/identity.json/klout/{kid}/tw",
        f"/v2/user.json/{kid}",
        f"/v2/user.json/{kid}/score",
        f"/v2/user.json/{kid}/topics",
        f"/v2/user.json/{kid}/influence",
        f"/1/klout.json?users={name}",
        f"/1/users/show.json?users={name}",
        f"/1/users/topics.json?users={name}",
        f"/1/soi/influenced_by.json?users={name}",
        f"/1/soi/influencer_of.json?users={name}",
        f"/api/v1/subjects/{kid}",
        f"/api/v1/subjects/{kid}/history",
        f"/api/v1/subjects/{kid}/topics",
        f"/api/v1/subjects/{kid}/influence",
        "/api/v1/subjects/lookup?network=x&handle=" + name,
    ]


def get(client: Client, path: str, key: str) -> int:
    sep = "&" if "?" in path else "?"
    return client.get(f"{path}{sep}key={key}").status_code


def test_an_opted_out_person_is_404_on_every_path_even_when_cached(
    client: Client, api_key, twitter_star, alice, django_capture_on_commit_callbacks
) -> None:
    twitter_star.user = alice
    twitter_star.save(update_fields=["user"])
    from tests.factories.scoring import score_history

    score_history(user=alice, days=3, score=44.0)
    kid = klout_id_of(user_id=alice.pk)
    prime_documents()
    paths = all_paths(kid, "star", "100")
    assert {p: get(client, p, api_key) for p in paths} == dict.fromkeys(paths, 200)

    with django_capture_on_commit_callbacks(execute=True):
        opt_out_person(user_id=alice.pk)

    assert {p: get(client, p, api_key) for p in paths} == dict.fromkeys(paths, 404)
    bulk = client.get(f"/api/v1/subjects?ids={kid}&key={api_key}").json()
    assert bulk == {"results": [], "missing": [kid]}


def test_a_protected_account_is_404_at_once(client: Client, api_key, twitter_star, star_id):
    prime_documents()
    assert get(client, f"/v2/user.json/{star_id}", api_key) == 200
    set_account_protected(account_id=twitter_star.pk)  # not even committed yet
    paths = all_paths(star_id, "star", "100")
    assert {p: get(client, p, api_key) for p in paths} == dict.fromkeys(paths, 404)


@needs_redis
def test_a_cached_single_lookup_makes_no_database_query(client: Client, api_key, star_id):
    prime_documents()
    for path in (f"/v2/user.json/{star_id}", f"/api/v1/subjects/{star_id}"):
        client.get(f"{path}?key={api_key}")  # the key's record is cached on first use
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{path}?key={api_key}")
        assert response.status_code == 200
        assert len(queries) == 0, [q["sql"] for q in queries]


@needs_redis
def test_cached_and_database_answers_are_the_same_bytes(client: Client, api_key, star_id):
    paths = [f"/v2/user.json/{star_id}{tail}" for tail in ("", "/score", "/topics", "/influence")]
    paths.append(f"/api/v1/subjects/{star_id}")
    paths.append(f"/api/v1/subjects?ids={star_id},999999999")
    from_db = [client.get(f"{p}?key={api_key}").content for p in paths]
    prime_documents()
    from_cache = [client.get(f"{p}?key={api_key}").content for p in paths]
    assert from_cache == from_db


CLOSED_PORT = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing listens
    }
}


def test_with_redis_away_lookups_fall_back_to_the_database_uncounted(
    client: Client, api_key, star_id
) -> None:
    with override_settings(CACHES=CLOSED_PORT):
        legacy = client.get(f"/v2/user.json/{star_id}?key={api_key}")
        modern = client.get(
            f"/api/v1/subjects/{star_id}", headers={"Authorization": f"Bearer {api_key}"}
        )
        refused = client.get(f"/v2/user.json/{star_id}?key=klt_wrong")
    assert legacy.status_code == 200
    assert legacy.json()["kloutId"] == star_id
    assert modern.status_code == 200
    assert "RateLimit" not in modern  # not counted: documented fail-open choice
    assert refused.status_code == 403  # keys are still checked, in the database
