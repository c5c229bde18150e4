"""A daily score is final: code and the database both refuse to change it."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from scoring.models import DailyScore, ImmutableScoreError
from tests.factories.scoring import DailyScoreFactory

pytestmark = pytest.mark.django_db


def test_daily_score_save_refuses_to_update_an_existing_row():
    score = DailyScoreFactory.create(score=20.0)
    score.score = 99.0

    with pytest.raises(ImmutableScoreError):
        score.save()


def test_daily_score_queryset_update_is_refused():
    DailyScoreFactory.create(score=20.0)

    with pytest.raises(ImmutableScoreError):
        DailyScore.objects.filter(score=20.0).update(score=99.0)


def test_database_refuses_raw_sql_update_of_a_daily_score():
    score = DailyScoreFactory.create(score=20.0)

    with (
        pytest.raises(DatabaseError, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            f"UPDATE {DailyScore._meta.db_table} SET score = 99 WHERE id = %s", [score.pk]
        )

    assert DailyScore.objects.get(pk=score.pk).score == 20.0


def test_database_still_allows_deleting_scores_for_opt_out_and_discard():
    score = DailyScoreFactory.create()

    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {DailyScore._meta.db_table} WHERE id = %s", [score.pk])

    assert not DailyScore.objects.filter(pk=score.pk).exists()
