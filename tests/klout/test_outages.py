"""Redis or the broker away: pages still answer, /healthz says what is down, queueing fails
cleanly (a clear message, no export stuck pending, no sync lock held)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from kombu.exceptions import OperationalError

from accounts.models import ExportJob, ExportStatus
from klout.celery import app as celery_app
from klout.queueing import QUEUE_DOWN_MESSAGE
from networks.models import NetworkAccount, SyncRun, SyncStatus
from scoring.services import compute_day
from tests.factories.accounts import UserFactory
from tests.factories.networks import NetworkAccountFactory
from tests.factories.scoring import DAY, accounts, noon, react

CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1
REDIS_DOWN = override_settings(
    CACHES={
        "default": {
            "BACKEND": "klout.cache.FailOpenRedisCache",
            "LOCATION": CLOSED_PORT_REDIS,
            "KEY_PREFIX": "klout",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }
)


@pytest.fixture
def scored_star(db) -> NetworkAccount:
    star = accounts("star", 1)[0]
    react([(f, star) for f in accounts("fan", 5)], at=noon(DAY - dt.timedelta(days=1)))
    compute_day(day=DAY)
    return star


@pytest.mark.django_db
def test_sign_in_sign_up_and_pages_answer_while_redis_is_down(scored_star, caplog):
    UserFactory.create(email="dora@example.com", password="a long enough passphrase 7")
    with REDIS_DOWN:
        client = Client()
        signed_in = client.post(
            reverse("account_login"),
            {"login": "dora@example.com", "password": "a long enough passphrase 7"},
        )
        dashboard = client.get(reverse("dashboard"))
        privacy = client.get(reverse("privacy"))
        signed_up = Client().post(
            reverse("account_signup"),
            {
                "email": "eve@example.com",
                "password1": "another long passphrase 8",
                "password2": "another long passphrase 8",
            },
        )
        profile = Client().get(
            reverse("profile", kwargs={"network": scored_star.network, "handle": "star0"})
        )

    assert signed_in.status_code == 302, signed_in.content[:500]
    assert dashboard.status_code == 200
    assert privacy.status_code == 200
    assert signed_up.status_code == 302
    assert profile.status_code == 200
    assert b"star0" in profile.content
    assert "cache unreachable" in caplog.text


@pytest.mark.django_db
def test_healthz_reports_database_cache_and_broker(client: Client, monkeypatch):
    healthy = client.get("/healthz")
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    monkeypatch.setitem(celery_app.conf, "broker_url", CLOSED_PORT_REDIS)
    monkeypatch.setitem(celery_app.conf, "broker_write_url", None)
    with REDIS_DOWN:
        degraded = client.get("/healthz")

    assert healthy.status_code == 200
    assert healthy.json()["database"] == "ok"
    # a load balancer keeps sending traffic: pages work from the database alone
    assert degraded.status_code == 200
    assert degraded.json() == {
        "status": "degraded",
        "database": "ok",
        "cache": "down",
        "broker": "down",
    }


@pytest.fixture
def broker_down(monkeypatch):
    """Every task publish fails as it does when Redis refuses the connection."""

    def refuse(self, *args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("celery.app.task.Task.apply_async", refuse)


@pytest.mark.django_db(transaction=True)
def test_an_export_queued_while_the_broker_is_down_fails_with_a_clear_message(broker_down):
    dora = UserFactory.create(email="dora@example.com")
    client = Client()
    client.force_login(dora)

    response = client.post(reverse("start_export"), follow=True)

    job = ExportJob.objects.get(user=dora)
    assert job.status == ExportStatus.FAILED  # not pending forever
    assert job.error == QUEUE_DOWN_MESSAGE
    assert response.status_code == 200
    assert "background workers cannot be reached" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_sync_now_while_the_broker_is_down_releases_the_accounts_lock(broker_down):
    dora = UserFactory.create(email="dora@example.com")
    account = NetworkAccountFactory.create(network="reddit", external_id="dr", user=dora)
    client = Client()
    client.force_login(dora)

    response = client.post(reverse("sync_state", args=[account.pk]), follow=True)

    account.refresh_from_db()
    assert account.sync_started_at is None  # the next "sync now" may start at once
    run = SyncRun.objects.get(account=account)
    assert run.status == SyncStatus.FAILED
    assert run.errors == [QUEUE_DOWN_MESSAGE]
    assert "background workers cannot be reached" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_an_upload_queued_while_the_broker_is_down_fails_and_its_file_is_removed(
    broker_down, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    dora = UserFactory.create(email="dora@example.com")
    NetworkAccountFactory.create(network="mastodon", external_id="1@social.example", user=dora)
    client = Client()
    client.force_login(dora)
    outbox = Path(__file__).parent.parent / "networks" / "fixtures" / "outbox.json"

    with outbox.open("rb") as upload:
        response = client.post(
            reverse("import_archive"), {"format": "mastodon", "file": upload}, follow=True
        )

    run = SyncRun.objects.get(user=dora)
    assert run.status == SyncStatus.FAILED
    assert run.errors == [QUEUE_DOWN_MESSAGE]
    assert not Path(run.path).exists()
    assert "background workers cannot be reached" in response.content.decode()
