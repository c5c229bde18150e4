"""PostgreSQL: account keys compare byte by byte (COLLATE "C").

External ids and network names are identifiers, not words: no one sorts them for reading, and
the database's locale collation (strcoll per comparison) made the unique (network, external_id)
index the largest cost of creating accounts in bulk imports (measured on the Higgs file: about
0.5 s of 3 s). SQLite compares bytes already. Outside the model state: a later AlterField of these
columns must keep the collation (see this note).
"""

from django.db import migrations

ALTER = (
    "ALTER TABLE networks_networkaccount"
    " ALTER COLUMN external_id TYPE varchar(128) COLLATE {c},"
    " ALTER COLUMN network TYPE varchar(32) COLLATE {c}"
)


def bytewise(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALTER.format(c='"C"'))


def by_locale(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALTER.format(c='"default"'))


class Migration(migrations.Migration):
    dependencies = [
        ("networks", "0005_partition_interactions_by_month"),
    ]

    operations = [migrations.RunPython(bytewise, by_locale)]
