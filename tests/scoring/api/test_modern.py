"""The modern API under /api/v1/: keys, subjects, bulk, history, influence, enums, HTTP manners."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.models import ApiKey
from networks.models import Network
from scoring.kloutids import klout_id_of
from tests.factories.networks import NetworkAccountFactory
from tests.factories.scoring import score_history

pytestmark = pytest.mark.django_db


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_subject_by_kloutid_with_a_bearer_key(client: Client, api_key, star_id) -> None:
    response = client.get(f"/api/v1/subjects/{star_id}", headers=bearer(api_key))
    assert response.status_code == 200
    body = response.json()
    assert body["kloutId"] == star_id
    assert body["nick"] == "star"
    assert body["score"] == 48.87
    assert body["bucket"] == "40-49"
    assert body["style"] == {
        "id": 7,
        "name": "Thought Leader",
        "description": body["style"]["description"],
        "reason": "You create focused content on a schedule.",
    }
    assert body["changes"]["month"] == 2.0
    assert body["subscores"] == {"trueReach": 120, "amplification": 31.0, "network": 27.5}


def test_the_key_may_also_travel_as_key_param(client: Client, api_key, star_id) -> None:
    assert client.get(f"/api/v1/subjects/{star_id}?key={api_key}").status_code == 200


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}], ids=["none", "bad"])
def test_no_or_a_bad_key_is_401_problem_json(client: Client, star_id, headers) -> None:
    response = client.get(f"/api/v1/subjects/{star_id}", headers=headers)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    problem = response.json()
    assert problem["status"] == 401
    assert {"type", "title", "detail"} <= set(problem)


def test_unknown_subject_and_unknown_path_are_404_problem_json(client: Client, api_key) -> None:
    for path in ("/api/v1/subjects/987654321", "/api/v1/nothing-here"):
        response = client.get(path, headers=bearer(api_key))
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["status"] == 404


def test_lookup_by_network_and_handle(client: Client, api_key, star_id, higgs_account) -> None:
    response = client.get("/api/v1/subjects/lookup?network=x&handle=star", headers=bearer(api_key))
    assert response.json()["kloutId"] == star_id
    response = client.get(
        "/api/v1/subjects/lookup?network=higgs&handle=4242", headers=bearer(api_key)
    )
    assert response.json()["kloutId"] == klout_id_of(account_id=higgs_account.pk)
    response = client.get(
        "/api/v1/subjects/lookup?network=myspace&handle=x", headers=bearer(api_key)
    )
    assert response.status_code == 400


def test_bulk_lookup_lists_found_and_missing(client: Client, api_key, star_id, higgs_account):
    higgs_id = klout_id_of(account_id=higgs_account.pk)
    response = client.get(
        f"/api/v1/subjects?ids={star_id},999999999,{higgs_id}", headers=bearer(api_key)
    )
    body = response.json()
    assert [r["kloutId"] for r in body["results"]] == [star_id, higgs_id]
    assert body["missing"] == ["999999999"]


def test_bulk_refuses_more_than_100_ids(client: Client, api_key) -> None:
    ids = ",".join(str(i) for i in range(1, 102))
    response = client.get(f"/api/v1/subjects?ids={ids}", headers=bearer(api_key))
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_bulk_of_100_takes_a_fixed_number_of_queries(
    client: Client, api_key, django_assert_max_num_queries
) -> None:
    ids = []
    for i in range(100):
        account = NetworkAccountFactory.create(network=Network.X, handle=f"p{i}")
        score_history(account=account, days=1, score=20.0 + i % 50)
        ids.append(klout_id_of(account_id=account.pk))
    client.get(f"/api/v1/subjects?ids={ids[0]}", headers=bearer(api_key))  # key record cached
    with django_assert_max_num_queries(20):
        response = client.get(f"/api/v1/subjects?ids={','.join(ids)}", headers=bearer(api_key))
    assert len(response.json()["results"]) == 100


def test_history_gives_each_days_algorithm_version(client: Client, api_key, star_id) -> None:
    response = client.get(f"/api/v1/subjects/{star_id}/history?days=10", headers=bearer(api_key))
    days = response.json()["days"]
    assert len(days) == 10
    assert days == sorted(days, key=lambda d: d["day"])
    assert all(d["version"] for d in days)
    assert days[-1]["score"] == 48.87
    bad = client.get(f"/api/v1/subjects/{star_id}/history?days=0", headers=bearer(api_key))
    assert bad.status_code == 400


def test_influence_has_totals_and_pages(client: Client, api_key, star_id) -> None:
    body = client.get(f"/api/v1/subjects/{star_id}/influence", headers=bearer(api_key)).json()
    assert body["influencersCount"] == 1
    assert [p["nick"] for p in body["influencers"]] == ["mentor"]
    assert [p["nick"] for p in body["influencees"]] == ["fan"]
    page2 = client.get(
        f"/api/v1/subjects/{star_id}/influence?page=2&pageSize=1", headers=bearer(api_key)
    ).json()
    assert page2["influencers"] == []
    assert page2["hasMore"] is False


def test_topics_with_topic_scores_and_evidence(client: Client, api_key, star_id) -> None:
    body = client.get(f"/api/v1/subjects/{star_id}/topics", headers=bearer(api_key)).json()
    assert body["kloutId"] == star_id
    first, second = body["topics"]
    assert (first["id"], first["slug"], first["topicType"]) == (
        "6044850417586066071",
        "quantum-computing",
        "sub",
    )
    assert (first["score"], first["evidence"]) == (71.5, 6)
    assert (second["displayName"], second["topicType"], second["evidence"]) == (
        "Higgs Boson",
        "entity",
        2,
    )


def test_enums_document_styles_buckets_and_topic_types(client: Client, api_key) -> None:
    body = client.get("/api/v1/enums", headers=bearer(api_key)).json()
    assert [s["id"] for s in body["styles"]] == [str(i) for i in range(1, 17)]
    assert body["buckets"][-1]["id"] == "90-100"
    assert {t["id"] for t in body["topicTypes"]} == {"sub", "entity"}


def test_etag_and_last_modified_give_304(client: Client, api_key, star_id) -> None:
    first = client.get(f"/api/v1/subjects/{star_id}", headers=bearer(api_key))
    etag, modified = first["ETag"], first["Last-Modified"]
    again = client.get(
        f"/api/v1/subjects/{star_id}", headers={**bearer(api_key), "If-None-Match": etag}
    )
    assert again.status_code == 304
    assert again.content == b""
    since = client.get(
        f"/api/v1/subjects/{star_id}", headers={**bearer(api_key), "If-Modified-Since": modified}
    )
    assert since.status_code == 304
    stale = client.get(
        f"/api/v1/subjects/{star_id}", headers={**bearer(api_key), "If-None-Match": '"other"'}
    )
    assert stale.status_code == 200


def test_ratelimit_headers_and_429_with_retry_after(client: Client, api_key, star_id) -> None:
    ApiKey.objects.update(per_day=3)
    responses = [
        client.get(f"/api/v1/subjects/{star_id}", headers=bearer(api_key)) for _ in range(4)
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert "RateLimit-Policy" in responses[0]
    assert "r=2" in responses[0]["RateLimit"] or '"second"' in responses[0]["RateLimit"]
    assert responses[2]["RateLimit"].startswith('"day";r=0')
    over = responses[3]
    assert over["Content-Type"] == "application/problem+json"
    assert int(over["Retry-After"]) >= 1


def test_cors_is_read_only_and_open(client: Client, api_key, star_id) -> None:
    response = client.get(
        f"/api/v1/subjects/{star_id}", headers={**bearer(api_key), "Origin": "https://x.example"}
    )
    assert response["Access-Control-Allow-Origin"] == "*"
    preflight = client.options(
        f"/api/v1/subjects/{star_id}",
        headers={
            "Origin": "https://x.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Methods"] == "GET"
    assert "Authorization" in preflight["Access-Control-Allow-Headers"]
    post = client.post(f"/api/v1/subjects/{star_id}", headers=bearer(api_key))
    assert post.status_code == 405
    assert post["Content-Type"] == "application/problem+json"


def test_schema_is_openapi_3_1_and_docs_load_from_our_static_files(client: Client) -> None:
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    assert json.loads(schema.content)["openapi"].startswith("3.1")
    docs = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs
    assert "cdn" not in docs.lower()
