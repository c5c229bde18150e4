"""Move whole numeric columns between PostgreSQL and numpy without a Python object per value.

`read_columns` runs a query and returns its columns as numpy arrays; `write_columns` loads numpy
columns into a (temporary) table. On PostgreSQL both use COPY in binary format, which numpy reads
and writes as one fixed-width record per row, so a million rows cost a few tens of milliseconds of
Python instead of a million tuples. Other databases (SQLite in local runs) fetch or insert rows.

Only fixed-width, NOT NULL numbers travel this way (int2, int4, int8, float8): a query coalesces
its NULLs and casts its columns to the types it asks for, or `read_columns` refuses the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection

# numpy kind of each PostgreSQL type that travels as a column: (type name, dtype, byte width).
TYPES: dict[str, tuple[str, str, int]] = {
    "int2": ("smallint", ">i2", 2),
    "int4": ("integer", ">i4", 4),
    "int8": ("bigint", ">i8", 8),
    "float8": ("double precision", ">f8", 8),
}
NATIVE = {"int2": np.int16, "int4": np.int32, "int8": np.int64, "float8": np.float64}
HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = (-1).to_bytes(2, "big", signed=True)


def _record(types: Sequence[str]) -> np.dtype[Any]:
    """One binary COPY row of fixed-width fields: field count, then (length, value) per field."""
    fields: list[tuple[str, str]] = [("count", ">i2")]
    for i, name in enumerate(types):
        fields += [(f"len{i}", ">i4"), (f"v{i}", TYPES[name][1])]
    return np.dtype(fields)


def read_columns(sql: str, params: Sequence[Any], types: Sequence[str]) -> list[npt.NDArray[Any]]:
    """Run `sql` and return its columns as native numpy arrays of `types` ("int8", "float8"...).

    The query's columns must be NOT NULL and of exactly those types (cast them in the SQL).
    """
    if connection.vendor != "postgresql":
        return _fetch_columns(sql, params, types)
    record = _record(types)
    chunks: list[bytes] = []
    statement = f"COPY ({sql}) TO STDOUT (FORMAT binary)"
    with connection.cursor() as cursor, cursor.cursor.copy(statement, params) as copy:
        chunks.extend(bytes(block) for block in copy)
    data = b"".join(chunks)
    del chunks
    if not data.startswith(HEADER[:11]) or not data.endswith(TRAILER):
        raise ValueError("not a binary COPY stream")
    body = memoryview(data)[len(HEADER) : len(data) - len(TRAILER)]
    if len(body) % record.itemsize:
        raise ValueError(f"columns are not NOT NULL {', '.join(types)} (a value has another size)")
    rows = np.frombuffer(body, dtype=record)
    widths = [TYPES[name][2] for name in types]
    if rows.shape[0] and (
        (rows["count"] != len(types)).any()
        or any((rows[f"len{i}"] != w).any() for i, w in enumerate(widths))
    ):
        raise ValueError(f"columns are not NOT NULL {', '.join(types)} (a NULL or another type)")
    return [rows[f"v{i}"].astype(NATIVE[name]) for i, name in enumerate(types)]


def _fetch_columns(sql: str, params: Sequence[Any], types: Sequence[str]) -> list[npt.NDArray[Any]]:
    chunks: list[npt.NDArray[Any]] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        while batch := cursor.fetchmany(50_000):
            chunks.append(np.asarray(batch, dtype=np.float64))
    table = np.concatenate(chunks) if chunks else np.zeros((0, len(types)))
    table = table.reshape(-1, len(types))
    return [table[:, i].astype(NATIVE[name]) for i, name in enumerate(types)]


def write_columns(cursor: Any, table: str, columns: Mapping[str, tuple[str, npt.ArrayLike]]) -> int:
    """Append rows to `table` from equal-length columns: {column: (type, values)}; return rows.

    `table` is a trusted name (a temporary table of the caller's); `cursor` a Django cursor.
    """
    names = list(columns)
    types = [columns[name][0] for name in names]
    arrays = [np.asarray(columns[name][1]) for name in names]
    n = arrays[0].shape[0] if arrays else 0
    if any(a.shape != (n,) for a in arrays):
        raise ValueError("columns of different lengths")
    quoted = ", ".join(connection.ops.quote_name(name) for name in names)
    if connection.vendor != "postgresql":
        marks = ", ".join(["%s"] * len(names))
        values = list(zip(*(a.tolist() for a in arrays), strict=True))
        cursor.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({marks})", values)
        return n
    rows = np.empty(n, dtype=_record(types))
    rows["count"] = len(names)
    for i, (name, column) in enumerate(zip(types, arrays, strict=True)):
        rows[f"len{i}"] = TYPES[name][2]
        rows[f"v{i}"] = column
    with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN (FORMAT binary)") as copy:
        copy.write(HEADER)
        step = 1 << 20  # rows per write: the payload never needs a second full copy in memory
        for start in range(0, n, step):
            copy.write(rows[start : start + step].tobytes())
        copy.write(TRAILER)
    return n
