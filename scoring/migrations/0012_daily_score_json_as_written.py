"""DailyScore's JSON columns become PostgreSQL ``json`` (the text as written; see scoring/fields.py).

One ALTER TABLE rewrites the table once for all five columns. Other databases keep their text.
"""

from typing import Any

from django.db import migrations

import scoring.fields

COLUMNS = ("style_reasons", "network_contributions", "influencers", "influencees", "moments")


def _retype(to: str) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        clauses = ", ".join(f'ALTER COLUMN "{c}" TYPE {to} USING "{c}"::{to}' for c in COLUMNS)
        schema_editor.execute(f'ALTER TABLE "scoring_dailyscore" {clauses}')

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0011_plus_k_fewer_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(_retype("json"), _retype("jsonb"))],
            state_operations=[
                migrations.AlterField(
                    model_name="dailyscore",
                    name=name,
                    field=scoring.fields.WrittenJSONField(
                        blank=True, default=dict if name == "network_contributions" else list
                    ),
                )
                for name in COLUMNS
            ],
        ),
    ]
