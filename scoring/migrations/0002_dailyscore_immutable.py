"""The database itself refuses to change a daily score once written (history is never rewritten)."""

from collections.abc import Callable
from typing import Any

from django.db import migrations

PG_UP = """
CREATE OR REPLACE FUNCTION scoring_dailyscore_refuse_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'scoring_dailyscore rows are immutable (row %)', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER scoring_dailyscore_no_update BEFORE UPDATE ON scoring_dailyscore
    FOR EACH ROW EXECUTE FUNCTION scoring_dailyscore_refuse_update();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS scoring_dailyscore_no_update ON scoring_dailyscore;
DROP FUNCTION IF EXISTS scoring_dailyscore_refuse_update();
"""
SQLITE_UP = """
CREATE TRIGGER scoring_dailyscore_no_update BEFORE UPDATE ON scoring_dailyscore
BEGIN
    SELECT RAISE(ABORT, 'scoring_dailyscore rows are immutable');
END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS scoring_dailyscore_no_update;"


def _run(sql: dict[str, str]) -> Callable[[Any, Any], None]:
    def apply(apps: Any, schema_editor: Any) -> None:
        statement = sql.get(schema_editor.connection.vendor)
        if statement:
            schema_editor.execute(statement, params=None)

    return apply


class Migration(migrations.Migration):
    dependencies = [("scoring", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": PG_UP, "sqlite": SQLITE_UP}),
            _run({"postgresql": PG_DOWN, "sqlite": SQLITE_DOWN}),
        )
    ]
