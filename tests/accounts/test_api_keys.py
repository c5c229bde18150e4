"""API keys: stored hashed and shown once, the command, the developer page and its owners."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client

from accounts.api_keys import calls_per_day, pass_gate
from accounts.models import ApiKey
from accounts.services import create_api_key, set_api_key_quota

pytestmark = pytest.mark.django_db


def test_a_key_is_stored_only_as_its_hash() -> None:
    key, raw = create_api_key(name="dash")
    stored = ApiKey.objects.get(pk=key.pk)
    assert stored.hashed == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {str(v) for v in ApiKey.objects.values_list(flat=False).get()}
    assert raw.startswith(stored.prefix)


def test_create_api_key_prints_the_key_on_its_last_line() -> None:
    out = StringIO()
    call_command("create_api_key", "partner one", stdout=out)
    last = out.getvalue().strip().splitlines()[-1]
    key = ApiKey.objects.get(name="partner one")
    assert key.hashed == hashlib.sha256(last.encode()).hexdigest()
    assert (key.per_second, key.per_day) == (10, 10_000)
    assert pass_gate(last).key is not None


def test_the_developer_page_creates_a_key_and_shows_it_once(alice_client: Client, alice) -> None:
    response = alice_client.post("/developers/", {"name": "my dashboard"})
    assert response.status_code == 200
    key = ApiKey.objects.get(user=alice)
    raw = response.context["new_key"]
    assert key.hashed == hashlib.sha256(raw.encode()).hexdigest()
    assert raw in response.content.decode()
    again = alice_client.get("/developers/").content.decode()
    assert raw not in again
    assert "my dashboard" in again


def test_a_key_needs_a_name(alice_client: Client) -> None:
    response = alice_client.post("/developers/", {"name": "  "})
    assert response.status_code == 400
    assert ApiKey.objects.count() == 0


def test_rotate_replaces_the_secret_and_revoke_stops_it(
    alice_client: Client, alice, django_capture_on_commit_callbacks
) -> None:
    key, raw = create_api_key(name="dash", user_id=alice.pk)
    assert pass_gate(raw).key is not None
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(f"/developers/keys/{key.pk}/rotate/")
    fresh = response.context["new_key"]
    assert pass_gate(raw).key is None
    assert pass_gate(fresh).key is not None
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(f"/developers/keys/{key.pk}/revoke/")
    assert pass_gate(fresh).key is None
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None


def test_rename_a_key(alice_client: Client, alice) -> None:
    key, _ = create_api_key(name="dash", user_id=alice.pk)
    alice_client.post(f"/developers/keys/{key.pk}/rename/", {"name": "reports"})
    assert ApiKey.objects.get(pk=key.pk).name == "reports"


@pytest.mark.parametrize("action", ["rotate", "revoke", "rename"])
def test_nobody_else_can_touch_a_key(charlie_client: Client, alice, action: str) -> None:
    key, raw = create_api_key(name="alice's", user_id=alice.pk)
    response = charlie_client.post(f"/developers/keys/{key.pk}/{action}/", {"name": "mine"})
    assert response.status_code == 404
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None
    assert ApiKey.objects.get(pk=key.pk).name == "alice's"
    assert pass_gate(raw).key is not None
    assert "alice&#x27;s" not in charlie_client.get("/developers/").content.decode()


def test_the_developer_page_needs_a_sign_in(client: Client) -> None:
    response = client.get("/developers/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_calls_per_day_are_shown(alice_client: Client, alice) -> None:
    key, raw = create_api_key(name="dash", user_id=alice.pk)
    for _ in range(3):
        pass_gate(raw)
    today = dt.datetime.now(dt.UTC).date()
    assert calls_per_day([key.pk], today=today)[key.pk][0] == (today, 3)
    page = alice_client.get("/developers/")
    assert page.context["rows"][0]["month"] == 3


def test_the_developer_page_takes_a_fixed_number_of_queries(
    alice_client: Client, alice, django_assert_max_num_queries
) -> None:
    for i in range(15):
        create_api_key(name=f"key {i}", user_id=alice.pk)
    with django_assert_max_num_queries(12):
        response = alice_client.get("/developers/")
    assert len(response.context["rows"]) == 15


def test_staff_raise_a_keys_quota(django_capture_on_commit_callbacks) -> None:
    key, raw = create_api_key(name="big partner")
    pass_gate(raw)  # the record is cached
    with django_capture_on_commit_callbacks(execute=True):
        set_api_key_quota(key_id=key.pk, per_second=100, per_day=1_000_000)
    gate = pass_gate(raw)
    assert gate.key is not None
    assert (gate.key.per_second, gate.key.per_day) == (100, 1_000_000)


def test_the_admin_change_form_raises_quotas(admin_client: Client) -> None:
    key, _ = create_api_key(name="big partner")
    response = admin_client.post(
        f"/admin/accounts/apikey/{key.pk}/change/", {"per_second": "50", "per_day": "50000"}
    )
    assert response.status_code == 302
    key.refresh_from_db()
    assert (key.per_second, key.per_day) == (50, 50_000)


@pytest.mark.skipif(not settings.REDIS_URL, reason="quotas are counted in Redis")
@pytest.mark.django_db(transaction=True)
def test_quota_counting_is_atomic_under_concurrency() -> None:
    """40 threads, 5 calls each, a 120/day key: exactly 120 pass, every call is counted."""
    key, raw = create_api_key(name="busy")
    ApiKey.objects.filter(pk=key.pk).update(per_second=10**6, per_day=120)
    pass_gate(raw)  # the record is cached; this call counts too
    results: list[bool] = []
    lock = threading.Lock()

    def calls() -> None:
        mine = [not pass_gate(raw).over_quota for _ in range(5)]
        with lock:
            results.extend(mine)
        connection.close()

    threads = [threading.Thread(target=calls) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == 119  # 120 minus the first call above
    today = dt.datetime.now(dt.UTC).date()
    assert calls_per_day([key.pk], today=today)[key.pk][0][1] == 201
