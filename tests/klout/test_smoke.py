from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
def test_home_page_renders_for_anonymous_visitors(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert b"Get your score" in response.content


@pytest.mark.django_db
def test_healthz_reports_database_reachable(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"


def test_pages_send_a_content_security_policy_without_inline_scripts(client: Client, db) -> None:
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert b"<script>" not in response.content


@pytest.mark.django_db
def test_livez_answers_without_the_database(client: Client, django_assert_num_queries) -> None:
    with django_assert_num_queries(0):
        assert client.get("/livez").json() == {"status": "ok"}


def test_pages_name_an_icon_that_exists_so_browsers_do_not_ask_for_favicon_ico(
    client: Client, db
) -> None:
    import re
    from pathlib import Path

    from django.conf import settings
    from django.contrib.staticfiles import finders

    html = client.get("/").content.decode()
    icon = re.search(r'<link rel="icon" href="([^"]+)"', html)

    assert icon is not None
    name = icon.group(1).removeprefix("/" + settings.STATIC_URL.lstrip("/"))
    found = finders.find(name)
    assert found
    assert "<svg" in Path(str(found)).read_text()
