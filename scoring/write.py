"""Bulk inserts for the scoring pipeline: COPY on PostgreSQL, the ORM's bulk_create elsewhere.

Both routes take the same input, rows as tuples of Python values in the order of `columns` (model
attnames, e.g. ``run_id``; JSON fields as Python values), or slices of rows as columns
(`insert_columns`), so what is stored does not depend on the route. On PostgreSQL JSON values are
serialised with ``json.dumps`` and the field's encoder, which is what the ORM sends
(``adapt_json_value``; compact text for a `WrittenJSONField`), and primary keys of the rows that
later rows refer to are taken from the table's sequence in one query, so nothing has to come back
from the COPY.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection, models
from psycopg.copy import QueuedLibpqWriter

from scoring.fields import WrittenJSONField, compact

Row = tuple[Any, ...]
Block = Sequence[Sequence[Any]]  # a slice of rows as columns, each in the order of `columns`
BATCH = 5_000


def use_copy() -> bool:
    """Whether rows go through COPY (PostgreSQL) rather than the ORM."""
    return connection.vendor == "postgresql"


def insert(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Row],
    *,
    with_ids: bool,
    json_text: frozenset[str] = frozenset(),
    count: int | None = None,
) -> npt.NDArray[np.int64]:
    """Insert `rows` into `model`'s table; with `with_ids`, return their primary keys in order.

    Values of the JSON columns named in `json_text` come as JSON text already (shaped in bulk by
    the caller): COPY sends them as they are, the ORM route parses them back into values.
    `count`, when the caller knows how many rows come, lets COPY stream them without holding all.
    """
    if use_copy():
        return _copy(model, columns, rows, with_ids=with_ids, json_text=json_text, count=count)
    if json_text:
        at = [i for i, name in enumerate(columns) if name in json_text]
        rows = (_parsed(row, at) for row in rows)
    return _bulk_create(model, columns, rows)


def _parsed(row: Row, at: list[int]) -> Row:
    values = list(row)
    for i in at:
        values[i] = json.loads(values[i])
    return tuple(values)


def _bulk_create(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Row]
) -> npt.NDArray[np.int64]:
    ids: list[int] = []
    batch: list[models.Model] = []

    def flush() -> None:
        created = model._default_manager.bulk_create(batch, batch_size=BATCH)
        ids.extend(obj.pk for obj in created)
        batch.clear()

    for row in rows:
        batch.append(model(**dict(zip(columns, row, strict=True))))
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return np.asarray(ids, dtype=np.int64)


def _copy(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Row],
    *,
    with_ids: bool,
    json_text: frozenset[str],
    count: int | None,
) -> npt.NDArray[np.int64]:
    opts = model._meta
    fields, defaults = _fields_and_defaults(model, columns)
    fields += defaults
    tail = [f.get_default() for f in defaults]
    json_at = [
        i
        for i, field in enumerate(fields)
        if isinstance(field, models.JSONField) and field.attname not in json_text
    ]
    encoders = [_json_text(fields[i]) for i in json_at]
    names = [str(field.column) for field in fields]
    ids = np.empty(0, dtype=np.int64)
    if with_ids:
        if count is None:
            rows = list(rows)
            count = len(rows)
        ids = allocate_ids(model, count)
        names.insert(0, str(opts.pk.column))
    sql = _copy_sql(model, names)
    if with_ids:
        rows = ((pk, *row) for pk, row in zip(ids.tolist(), rows, strict=True))
        json_at = [i + 1 for i in json_at]
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        write_row = copy.write_row
        if not json_at:
            for row in rows:
                write_row((*row, *tail))
            return ids
        for row in rows:
            values = [*row, *tail]
            for i, encode in zip(json_at, encoders, strict=True):
                if values[i] is not None:
                    values[i] = encode(values[i])
            write_row(values)
    return ids


def _fields_and_defaults(
    model: type[models.Model], columns: Sequence[str]
) -> tuple[list[models.Field[Any, Any]], list[models.Field[Any, Any]]]:
    """The fields named by `columns`, and the other concrete non-key fields: those the rows leave
    out, which get their model default as the ORM would give them."""
    fields = [_field(model, name) for name in columns]
    given = {field.attname for field in fields}
    defaults = [
        f for f in model._meta.concrete_fields if not f.primary_key and f.attname not in given
    ]
    return fields, defaults


def _copy_sql(model: type[models.Model], names: Sequence[str]) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(n) for n in names)
    return f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"


def _json_text(field: models.Field[Any, Any]) -> Callable[[Any], str]:
    """What the ORM sends for a value of JSON `field`: compact text for a WrittenJSONField."""
    encoder = getattr(field, "encoder", None)
    if isinstance(field, WrittenJSONField):
        return lambda value: compact(value, encoder)
    return lambda value: json.dumps(value, cls=encoder)


def insert_columns(
    model: type[models.Model],
    columns: Sequence[str],
    blocks: Iterable[Block],
    *,
    with_ids: bool,
    json_text: frozenset[str] = frozenset(),
    count: int | None = None,
) -> npt.NDArray[np.int64]:
    """`insert`, with the rows given a slice at a time as columns (`Block`: one list per column).

    On PostgreSQL each slice becomes COPY text a column at a time (one conversion per column and
    one join per row, no tuple of values per row for the driver to format), sent in one write.
    """
    if not use_copy():
        rows = (row for block in blocks for row in zip(*block, strict=True))
        return insert(model, columns, rows, with_ids=with_ids, json_text=json_text, count=count)
    opts = model._meta
    fields, defaults = _fields_and_defaults(model, columns)
    tail = [_text_of(f, json_text)([f.get_default()])[0] for f in defaults]
    encoders = [_text_of(field, json_text) for field in fields]
    names = [str(field.column) for field in [*fields, *defaults]]
    ids = np.empty(0, dtype=np.int64)
    if with_ids:
        if count is None:
            blocks = list(blocks)
            count = sum(len(block[0]) for block in blocks)
        ids = allocate_ids(model, count)
        names.insert(0, str(opts.pk.column))
    sql = _copy_sql(model, names)
    at = 0
    with connection.cursor() as cursor:
        # The driver sends each slice from a second thread while the next one is shaped here.
        writer = QueuedLibpqWriter(cursor.cursor)
        with cursor.cursor.copy(sql, writer=writer) as copy:
            for block in blocks:
                m = len(block[0]) if block else 0
                if m == 0:
                    continue
                text = [encode(column) for encode, column in zip(encoders, block, strict=True)]
                if with_ids:
                    if at + m > ids.shape[0]:
                        raise ValueError(f"more than the {count} rows announced")
                    text.insert(0, [str(i) for i in ids[at : at + m].tolist()])
                text += ([value] * m for value in tail)
                copy.write("\n".join(map("\t".join, zip(*text, strict=True))) + "\n")
                at += m
    if with_ids and at != ids.shape[0]:
        raise ValueError(f"{at} rows written, {ids.shape[0]} announced")
    return ids


NULL = "\\N"


def _escaped(value: str) -> str:
    """`value` in COPY's text format: backslash, tab, newline and carriage return escaped."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return value


def _text_of(
    field: models.Field[Any, Any], json_text: frozenset[str]
) -> Callable[[Sequence[Any]], list[str]]:
    """How a column of `field`'s values becomes COPY text (what the ORM would send for each)."""
    convert: Callable[[Any], str]
    if isinstance(field, models.JSONField):
        convert = str if field.attname in json_text else _json_text(field)
        return lambda values: [NULL if v is None else _escaped(convert(v)) for v in values]
    if isinstance(field, models.DateField):  # and DateTimeField: ISO 8601, offset included
        return lambda values: [NULL if v is None else v.isoformat() for v in values]
    if isinstance(field, (models.FloatField, models.IntegerField, models.ForeignKey)):
        # str of a float is its shortest exact repr (and "nan"/"inf", which PostgreSQL reads).
        return lambda values: [NULL if v is None else str(v) for v in values]
    if isinstance(field, models.BooleanField):
        return lambda values: [NULL if v is None else ("t" if v else "f") for v in values]
    return lambda values: [NULL if v is None else _escaped(str(v)) for v in values]


def _field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or not field.concrete:
        raise TypeError(f"{model.__name__}.{name} is not a column")
    return field


def allocate_ids(model: type[models.Model], n: int) -> npt.NDArray[np.int64]:
    """`n` fresh primary keys from the table's sequence, ascending (PostgreSQL only)."""
    if n == 0:
        return np.empty(0, dtype=np.int64)
    opts = model._meta
    with connection.cursor() as cursor:
        # The sequence is looked up once: pg_get_serial_sequence in the select list ran a catalog
        # lookup per id (nine tenths of the time at 177k ids).
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [opts.db_table, opts.pk.column])
        (sequence,) = cursor.fetchone()
        cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, n])
        ids = np.empty(n, dtype=np.int64)
        at = 0
        while batch := cursor.fetchmany(100_000):
            ids[at : at + len(batch)] = [r[0] for r in batch]
            at += len(batch)
    return np.sort(ids)
