"""insert_ignoring_conflicts: a handful of rows (one INSERT) and many (COPY on PostgreSQL, batches
elsewhere) store the same rows and count the same, conflicts skipped."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Notification
from klout.bulk import FEW, insert_ignoring_conflicts
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db

COLUMNS = ("user_id", "kind", "title", "body", "url", "key", "day", "created_at")
DAY = dt.date(2026, 11, 20)
AT = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)


def _rows(user_ids: list[int], n: int) -> list[tuple[object, ...]]:
    return [
        (user_ids[i % len(user_ids)], "k", f"title {i}", "", "", f"key {i}", DAY, AT)
        for i in range(n)
    ]


def _stored() -> list[tuple[object, ...]]:
    return list(
        Notification.objects.order_by("user_id", "key").values_list("user_id", "key", "title")
    )


def test_a_few_rows_and_many_rows_store_the_same_and_skip_the_same_conflicts():
    users = [UserFactory.create().pk for _ in range(3)]
    rows = _rows(users, 3 * FEW)
    already = rows[: FEW // 2]  # the same rows told before: skipped either way

    assert insert_ignoring_conflicts(Notification, COLUMNS, already) == len(already)
    assert insert_ignoring_conflicts(Notification, COLUMNS, rows) == len(rows) - len(already)
    by_many = _stored()
    Notification.objects.all().delete()

    assert insert_ignoring_conflicts(Notification, COLUMNS, already) == len(already)
    added = sum(
        insert_ignoring_conflicts(Notification, COLUMNS, rows[i : i + FEW])
        for i in range(0, len(rows), FEW)
    )
    assert added == len(rows) - len(already)
    assert _stored() == by_many


def test_a_handful_of_rows_is_one_statement_and_an_empty_batch_none():
    users = [UserFactory.create().pk for _ in range(2)]

    with CaptureQueriesContext(connection) as queries:
        assert insert_ignoring_conflicts(Notification, COLUMNS, _rows(users, 2)) == 2
        assert insert_ignoring_conflicts(Notification, COLUMNS, []) == 0

    assert len(queries.captured_queries) == 1
