"""Numeric columns travel between the database and numpy whole (binary COPY on PostgreSQL)."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection

from klout.columnar import read_columns, write_columns

pytestmark = pytest.mark.django_db


def test_columns_written_come_back_as_the_same_numbers() -> None:
    ids = np.array([3, 1, 2**40, -7], dtype=np.int64)
    small = np.array([1, -2, 300, 0], dtype=np.int16)
    real = np.array([0.5, -1.25, 1e9, 3.0])
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE _cols (a bigint, b smallint, c double precision)")
        added = write_columns(
            cursor, "_cols", {"a": ("int8", ids), "b": ("int2", small), "c": ("float8", real)}
        )
    a, b, c = read_columns(
        "SELECT a, b, c FROM _cols WHERE a > %s ORDER BY a", [-100], ["int8", "int2", "float8"]
    )
    order = np.argsort(ids)
    assert added == 4
    assert (a.dtype, b.dtype, c.dtype) == (np.int64, np.int16, np.float64)
    assert a.tolist() == ids[order].tolist()
    assert b.tolist() == small[order].tolist()
    assert c.tolist() == real[order].tolist()
    empty = read_columns("SELECT a FROM _cols WHERE a > %s", [2**50], ["int8"])
    assert empty[0].shape == (0,)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="binary COPY checks")
def test_a_null_or_a_wrong_type_is_refused_not_misread() -> None:
    with pytest.raises(ValueError, match="NOT NULL"):
        read_columns("SELECT 1::bigint, NULL::bigint", [], ["int8", "int8"])
    with pytest.raises(ValueError, match="NOT NULL"):
        read_columns("SELECT 1::integer", [], ["int8"])
