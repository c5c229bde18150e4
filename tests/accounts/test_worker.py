"""The export task through a real Celery worker process against Redis."""

from __future__ import annotations

import time
import zipfile

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import ExportJob, ExportStatus
from accounts.services import export_path
from tests.factories.accounts import UserFactory
from tests.worker import celery_worker  # noqa: F401  (fixture)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.mark.usefixtures("celery_worker")
def test_the_export_task_runs_in_a_real_worker_and_writes_the_zip() -> None:
    # given a person who asks for an export through the page
    person = UserFactory.create(email="worker-test@example.com")
    client = Client()
    client.force_login(person)
    client.post(reverse("start_export"))
    job = ExportJob.objects.get(user=person)
    # when the worker picks it up
    deadline = time.monotonic() + 60
    while job.status not in {ExportStatus.DONE, ExportStatus.FAILED}:
        assert time.monotonic() < deadline, f"export still {job.status} after 60 s"
        time.sleep(0.2)
        job.refresh_from_db()
    # then the zip is there with the person's data
    assert job.status == ExportStatus.DONE, job.error
    with zipfile.ZipFile(export_path(job)) as archive:
        assert "worker-test@example.com" in archive.read("accounts.user.json").decode()
