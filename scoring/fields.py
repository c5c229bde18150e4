"""JSON kept as written: PostgreSQL's ``json`` type for values only ever read whole.

A daily score's lists (style reasons, network shares, top five, moments) are written once per
subject per day and read back whole, never searched inside. ``jsonb`` parses each value into its
binary form on the way in, which was a third of the server's time ingesting a day's scores;
``json`` only checks the text and keeps it as sent. Other databases store JSON as text anyway.

Both write routes send the same compact text (no spaces after ``,`` and ``:``), so a value stored
through the ORM is byte for byte what the bulk COPY route stores for it.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

SEPARATORS = (",", ":")


def compact(value: Any, encoder: type[json.JSONEncoder] | None = None) -> str:
    """`value` as compact JSON text, the form both write routes store."""
    return json.dumps(value, separators=SEPARATORS, cls=encoder)


class WrittenJSONField(models.JSONField):
    """A JSONField stored as ``json`` on PostgreSQL: the text as written, checked, not rebuilt."""

    def db_type(self, connection: BaseDatabaseWrapper) -> str | None:
        if connection.vendor == "postgresql":
            return "json"
        return super().db_type(connection)

    def get_db_prep_value(
        self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False
    ) -> Any:
        if connection.vendor != "postgresql":
            return super().get_db_prep_value(value, connection, prepared)
        if not prepared:
            value = self.get_prep_value(value)
        if value is None:
            return None
        from psycopg.types.json import Json

        return Json(value, dumps=lambda v: compact(v, self.encoder))

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        # psycopg parses ``json`` itself (Django asks it for ``jsonb`` as text only).
        if connection.vendor == "postgresql":
            return value
        return super().from_db_value(value, expression, connection)
