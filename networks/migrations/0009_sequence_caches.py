"""PostgreSQL: the account and interaction id sequences hand out ids from a per-session cache.

A bulk import takes one id per interaction (the column default, as the rows are COPYed) and one
per new account (reserved before the accounts are written): 867,760 `nextval` calls for the Higgs
file. Uncached, each call locks the sequence's page and every 32nd writes WAL; with a cache of
1,024 a session takes a range at a time and hands the rest out from memory.

What it costs: ids are still unique and increase within a session, but ids cached by a session
that ends unused are skipped (gaps), and two concurrent sessions' ids interleave by ranges rather
than one by one. Nothing reads insertion order from these ids.
"""

from django.db import migrations

TABLES = ("networks_interaction", "networks_networkaccount")
CACHE = 1024


def set_cache(size: int):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            for table in TABLES:
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
                sequence = cursor.fetchone()[0]
                cursor.execute(f"ALTER SEQUENCE {sequence} CACHE {size}")

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("networks", "0008_account_database_defaults"),
    ]

    operations = [migrations.RunPython(set_cache(CACHE), set_cache(1))]
