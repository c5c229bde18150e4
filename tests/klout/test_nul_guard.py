"""A NUL character in an address or a form is a clear 400, never a 500 from PostgreSQL."""

from __future__ import annotations

import pytest

from scoring.kloutids import klout_id_of
from scoring.plusk import PlusK
from tests.factories.topics import TopicFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/search/?q=a%00",
        "/topics/?q=%00",
        "/p/a%00b/",
        "/u/x/a%00b",
        "/topics/a%00b/",
        "/badge/x/a%00.svg",
        "/notifications/unsubscribe/a%00/",
    ],
)
def test_a_nul_in_the_address_is_a_400_with_a_reason(client, url):
    response = client.get(url)

    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


def test_a_nul_in_a_plain_form_is_a_400_and_nothing_is_given(client, alice, bob):
    topic = TopicFactory.create()
    client.force_login(alice)

    response = client.post(
        "/plusk/give/", {"klout_id": klout_id_of(user_id=bob.pk), "topic_id": f"{topic.pk}\x00"}
    )

    assert response.status_code == 400
    assert not PlusK.objects.exists()


def test_ordinary_addresses_and_forms_still_pass(client):
    assert client.get("/search/?q=alice").status_code == 200
    assert client.get("/topics/?q=tech").status_code == 200


def test_the_apis_answer_a_nul_in_their_own_problem_format(client):
    response = client.get("/api/v1/subjects", {"ids": "1\x00"})

    assert response.status_code < 500
    assert response["Content-Type"].startswith("application/problem+json")
