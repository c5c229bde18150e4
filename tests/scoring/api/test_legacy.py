"""The original Klout API, one test per path of ../shared/specs/klout-api.md.

Every call goes through `LegacyClient`: parameters shuffled, unknown extras added."""

from __future__ import annotations

import gzip
import json

import pytest
from django.test import Client

from accounts.models import ApiKey
from accounts.services import revoke_api_key
from scoring.kloutids import klout_id_of

pytestmark = pytest.mark.django_db

DELTAS = {"dayChange": 0.12, "weekChange": -1.3, "monthChange": 2.0}


# --- v2 identity ------------------------------------------------------------------------------


def test_v2_identity_by_screen_name(legacy, api_key, twitter_star, star_id) -> None:
    status, body = legacy.json("/v2/identity.json/twitter", key=api_key, screenName="star")
    assert (status, body) == (200, {"id": star_id, "network": "ks"})


def test_v2_identity_twitter_path_with_numeric_id(legacy, api_key, twitter_star, star_id) -> None:
    status, body = legacy.json("/v2/identity.json/twitter/100", key=api_key)
    assert (status, body) == (200, {"id": star_id, "network": "ks"})


def test_v2_identity_tw_by_twitter_id(legacy, api_key, twitter_star, star_id) -> None:
    status, body = legacy.json("/v2/identity.json/tw/100", key=api_key)
    assert (status, body) == (200, {"id": star_id, "network": "ks"})


def test_v2_identity_of_a_higgs_account_by_screen_name_and_id(
    legacy, api_key, higgs_account
) -> None:
    expected = {"id": klout_id_of(account_id=higgs_account.pk), "network": "ks"}
    assert legacy.json("/v2/identity.json/twitter", key=api_key, screenName="4242") == (
        200,
        expected,
    )
    assert legacy.json("/v2/identity.json/tw/4242", key=api_key) == (200, expected)


@pytest.mark.parametrize("code", ["gp", "ig"])
def test_v2_identity_on_networks_we_do_not_ingest_is_404(
    legacy, api_key, twitter_star, code
) -> None:
    status, body = legacy.json(f"/v2/identity.json/{code}/100", key=api_key)
    assert status == 404
    assert body == {"error": 404, "description": "User not found."}


def test_v2_identity_fb_maps_to_facebook(legacy, api_key) -> None:
    from networks.models import Network
    from tests.factories.networks import NetworkAccountFactory

    account = NetworkAccountFactory.create(network=Network.FACEBOOK, external_id="555")
    status, body = legacy.json("/v2/identity.json/fb/555", key=api_key)
    assert (status, body) == (200, {"id": klout_id_of(account_id=account.pk), "network": "ks"})


def test_v2_identity_ks_is_the_identity(legacy, api_key, star_id) -> None:
    assert legacy.json(f"/v2/identity.json/ks/{star_id}", key=api_key) == (
        200,
        {"id": star_id, "network": "ks"},
    )


def test_v2_reverse_identity_gives_the_twitter_id(legacy, api_key, star_id) -> None:
    assert legacy.json(f"/v2/identity.json/klout/{star_id}/tw", key=api_key) == (
        200,
        {"id": "100", "network": "tw"},
    )
    status, _ = legacy.json(f"/v2/identity.json/klout/{star_id}/gp", key=api_key)
    assert status == 404


def test_a_claimed_accounts_kloutid_resolves_to_its_person(legacy, api_key, alice) -> None:
    from networks.models import Network
    from tests.factories.networks import NetworkAccountFactory

    account = NetworkAccountFactory.create(network=Network.X, handle="alicex", external_id="7")
    own_id = klout_id_of(account_id=account.pk)  # scored alone first, then claimed
    account.user = alice
    account.save(update_fields=["user"])
    status, body = legacy.json(f"/v2/identity.json/ks/{own_id}", key=api_key)
    assert own_id != klout_id_of(user_id=alice.pk)
    assert (status, body["id"]) == (200, klout_id_of(user_id=alice.pk))
    status, body = legacy.json("/v2/identity.json/twitter", screenName="alicex", key=api_key)
    assert body["id"] == klout_id_of(user_id=alice.pk)


# --- v2 user ----------------------------------------------------------------------------------


def test_v2_user(legacy, api_key, star_id) -> None:
    status, body = legacy.json(f"/v2/user.json/{star_id}", key=api_key)
    assert status == 200
    assert body == {
        "kloutId": star_id,
        "nick": "star",
        "score": {"score": 48.87, "bucket": "40-49"},
        "scoreDeltas": DELTAS,
    }
    assert isinstance(body["kloutId"], str)


def test_v2_user_score_uses_the_singular_scoredelta(legacy, api_key, star_id) -> None:
    status, body = legacy.json(f"/v2/user.json/{star_id}/score", key=api_key)
    assert (status, body) == (200, {"score": 48.87, "scoreDelta": DELTAS, "bucket": "40-49"})


def test_v2_user_score_bucket_of_the_top_band(legacy, api_key, higgs_account) -> None:
    kid = klout_id_of(account_id=higgs_account.pk)
    _status, body = legacy.json(f"/v2/user.json/{kid}/score", key=api_key)
    assert body["bucket"] == "90-100"
    assert body["score"] == 92.8


def test_v2_user_topics(legacy, api_key, star_id) -> None:
    status, body = legacy.json(f"/v2/user.json/{star_id}/topics", key=api_key)
    assert status == 200
    assert body == [
        {
            "id": "6044850417586066071",
            "displayName": "Quantum Computing",
            "name": "Quantum Computing",
            "slug": "quantum-computing",
            "imageUrl": "",
            "topicType": "sub",
        },
        {
            "id": "123",
            "displayName": "Higgs Boson",
            "name": "Higgs Boson",
            "slug": "higgs-boson",
            "imageUrl": "",
            "topicType": "entity",
        },
    ]


def test_v2_user_influence(legacy, api_key, star_id) -> None:
    status, body = legacy.json(f"/v2/user.json/{star_id}/influence", key=api_key)
    assert status == 200
    assert set(body) == {
        "myInfluencers",
        "myInfluencees",
        "myInfluencersCount",
        "myInfluenceesCount",
    }
    (influencer,) = body["myInfluencers"]
    entity = influencer["entity"]
    assert entity["id"] == entity["payload"]["kloutId"]
    assert entity["payload"]["nick"] == "mentor"
    assert entity["payload"]["score"] == {"score": 51.2, "bucket": "50-59"}
    assert set(entity["payload"]["scoreDeltas"]) == set(DELTAS)
    assert body["myInfluencees"][0]["entity"]["payload"]["nick"] == "fan"
    assert body["myInfluencersCount"] >= 1
    assert body["myInfluenceesCount"] >= 1


def test_v2_unknown_user_is_404_with_the_error_body(legacy, api_key, twitter_star) -> None:
    for kid in ("999999998", "abc", "0"):
        status, body = legacy.json(f"/v2/user.json/{kid}", key=api_key)
        assert (status, body) == (404, {"error": 404, "description": "User not found."})


# --- keys, quota, JSONP, gzip ------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "", "klt_not-a-key"])
def test_v2_bad_or_missing_key_is_403(legacy, star_id, key) -> None:
    params = {} if key is None else {"key": key}
    status, body = legacy.json(f"/v2/user.json/{star_id}", **params)
    assert status == 403
    assert body == {
        "error": 403,
        "description": "Invalid or unprovided API key. All calls must have a key.",
    }


def test_a_revoked_key_is_refused_at_once(
    legacy, api_key, star_id, django_capture_on_commit_callbacks
) -> None:
    assert legacy.json(f"/v2/user.json/{star_id}", key=api_key)[0] == 200
    with django_capture_on_commit_callbacks(execute=True):
        revoke_api_key(key_id=ApiKey.objects.get().pk, user_id=None)
    assert legacy.json(f"/v2/user.json/{star_id}", key=api_key)[0] == 403


def test_over_the_per_second_quota_is_403_on_legacy_paths(legacy, api_key, star_id) -> None:
    ApiKey.objects.update(per_second=3)
    statuses = [legacy.json(f"/v2/user.json/{star_id}", key=api_key)[0] for _ in range(6)]
    # Six calls inside one second (or straddling two): at least one is over a 3/s quota.
    assert statuses[:3].count(200) >= 1
    assert 403 in statuses
    status, body = legacy.json(f"/v2/user.json/{star_id}", key=api_key)
    if status == 403:
        assert body["error"] == 403


def test_over_the_daily_quota_is_403(legacy, api_key, star_id) -> None:
    ApiKey.objects.update(per_day=2)
    statuses = [legacy.json(f"/v2/user.json/{star_id}", key=api_key)[0] for _ in range(3)]
    assert statuses == [200, 200, 403]
    assert legacy.json(f"/v2/user.json/{star_id}", key=api_key)[1] == {
        "error": 403,
        "description": "Account Over Rate Limit",
    }


def test_callback_wraps_the_answer_in_jsonp(client: Client, api_key, star_id) -> None:
    response = client.get(f"/v2/user.json/{star_id}/score?callback=cb_1&key={api_key}")
    text = response.content.decode()
    assert text.startswith("cb_1(")
    assert text.endswith(")")
    assert json.loads(text[5:-1])["bucket"] == "40-49"


def test_a_callback_that_is_not_a_name_is_refused(client: Client, api_key, star_id) -> None:
    response = client.get(f"/v2/user.json/{star_id}?key={api_key}&callback=alert(1)//")
    assert response.status_code == 400
    assert b"alert" not in response.content


def test_gzip_on_request(client: Client, api_key, star_id) -> None:
    plain = client.get(f"/v2/user.json/{star_id}/influence?key={api_key}")
    zipped = client.get(
        f"/v2/user.json/{star_id}/influence?key={api_key}", headers={"Accept-Encoding": "gzip"}
    )
    assert zipped["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.content) == plain.content


# --- v1 -----------------------------------------------------------------------------------------


def test_v1_klout(legacy, api_key, twitter_star, higgs_account) -> None:
    status, body = legacy.json("/1/klout.json", key=api_key, users="star,4242,nobody")
    assert status == 200
    assert body == {
        "status": 200,
        "users": [
            {"twitter_screen_name": "star", "kscore": 48.87},
            {"twitter_screen_name": "4242", "kscore": 92.8},
        ],
    }


def test_v1_users_show(legacy, api_key, twitter_star) -> None:
    status, body = legacy.json("/1/users/show.json", users="star", key=api_key)
    assert status == 200
    (user,) = body["users"]
    assert user["twitter_id"] == "100"
    assert user["twitter_screen_name"] == "star"
    score = user["score"]
    assert set(score) == {
        "kscore", "slope", "description", "kclass_id", "kclass", "kclass_description",
        "kscore_description", "network_score", "amplification_score", "true_reach",
        "delta_1day", "delta_5day",
    }  # fmt: skip
    assert score["kscore"] == 48.87
    assert score["slope"] == 2.0
    assert (score["kclass"], score["kclass_id"]) == ("Thought Leader", 7)
    assert score["true_reach"] == 120
    assert isinstance(score["true_reach"], int)
    assert score["network_score"] == 27.5
    assert score["amplification_score"] == 31.0
    assert score["delta_1day"] == 0.12
    # history wanders 30-49; five days before the newest day of 30 it was 30 + (24 * 7) % 20
    assert score["delta_5day"] == pytest.approx(48.87 - 38.0)
    assert score["kscore_description"]
    assert score["kclass_description"]


def test_v1_users_topics(legacy, api_key, twitter_star) -> None:
    status, body = legacy.json("/1/users/topics.json", key=api_key, users="star")
    assert (status, body) == (
        200,
        {
            "status": 200,
            "users": [
                {"twitter_screen_name": "star", "topics": ["Quantum Computing", "Higgs Boson"]}
            ],
        },
    )


def test_v1_soi_influenced_by(legacy, api_key, twitter_star) -> None:
    _status, body = legacy.json("/1/soi/influenced_by.json", users="star", key=api_key)
    assert body == {
        "status": 200,
        "users": [
            {
                "twitter_screen_name": "star",
                "influencers": [{"twitter_screen_name": "mentor", "kscore": 51.2}],
            }
        ],
    }


def test_v1_soi_influencer_of(legacy, api_key, twitter_star) -> None:
    _status, body = legacy.json("/1/soi/influencer_of.json", users="star", key=api_key)
    assert body == {
        "status": 200,
        "users": [
            {
                "twitter_screen_name": "star",
                "influencees": [{"twitter_screen_name": "fan", "kscore": 33.0}],
            }
        ],
    }


def test_v1_more_than_five_names_is_refused(legacy, api_key, twitter_star) -> None:
    status, body = legacy.json("/1/klout.json", key=api_key, users="a,b,c,d,e,star")
    assert status == 400
    assert body["status"] == 400
    assert "5" in body["error"]


def test_v1_unknown_users_only_is_404(legacy, api_key, twitter_star) -> None:
    status, body = legacy.json("/1/klout.json", key=api_key, users="nobody,noone")
    assert status == 404
    assert body["status"] == 404
    assert body["error"]


def test_v1_bad_key_is_403(legacy, twitter_star) -> None:
    status, body = legacy.json("/1/klout.json", key="nope", users="star")
    assert status == 403
    assert body["status"] == 403
