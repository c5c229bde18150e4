"""A daily score's JSON columns keep the compact text they were written as and read back whole."""

from __future__ import annotations

import pytest
from django.db import connection

from scoring.models import DailyScore
from tests.factories.scoring import DailyScoreFactory

pytestmark = pytest.mark.django_db

MOMENTS = [{"post_id": 7, "text": 'tab\there "q" \\ é …', "posted_at": None, "actions": 3}]
PEOPLE = [{"account_id": 12, "network": "mastodon", "weight": 0.5}]


def test_json_columns_read_back_the_values_written_through_the_orm():
    score = DailyScoreFactory.create(
        style_reasons=["Broadcaster: you share."],
        network_contributions={"mastodon": 0.75, "bluesky": 0.25},
        influencers=PEOPLE,
        influencees=[],
        moments=MOMENTS,
    )

    stored = DailyScore.objects.get(pk=score.pk)
    values = DailyScore.objects.filter(pk=score.pk).values("moments", "network_contributions")

    assert stored.style_reasons == ["Broadcaster: you share."]
    assert stored.network_contributions == {"mastodon": 0.75, "bluesky": 0.25}
    assert stored.influencers == PEOPLE
    assert stored.influencees == []
    assert stored.moments == MOMENTS
    assert list(values) == [
        {"moments": MOMENTS, "network_contributions": {"mastodon": 0.75, "bluesky": 0.25}}
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL column types")
def test_json_columns_are_plain_json_kept_as_written_on_postgresql():
    score = DailyScoreFactory.create(influencers=PEOPLE, network_contributions={"b": 1, "a": 2})

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_typeof(influencers)::text, influencers::text, network_contributions::text "
            f"FROM {DailyScore._meta.db_table} WHERE id = %s",
            [score.pk],
        )
        kind, people, shares = cursor.fetchone()

    assert kind == "json"
    # The compact text both write routes send, keys in the order given (jsonb would sort them).
    assert people == '[{"account_id":12,"network":"mastodon","weight":0.5}]'
    assert shares == '{"b":1,"a":2}'
