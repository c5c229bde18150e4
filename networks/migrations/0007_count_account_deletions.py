"""PostgreSQL: a sequence counts statements that delete network accounts.

A long import keeps the account ids it resolved (and rows loaded but not yet attached carry them);
an account deleted meanwhile (a person deleting their data) would leave rows naming an id that no
longer exists. A statement-level trigger moves this sequence on every DELETE from the account
table, so an import sees, with one cheap read, whether any account went while it ran: then it
forgets the ids it knew and drops loaded rows of missing accounts before attaching them.
A sequence, not a counter row: deleting transactions never wait for each other on it.
"""

from django.db import migrations

FORWARD = """
CREATE SEQUENCE networks_account_deletions;
CREATE FUNCTION networks_count_account_deletions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM nextval('networks_account_deletions');
    RETURN NULL;
END $$;
CREATE TRIGGER networks_account_deleted AFTER DELETE ON networks_networkaccount
    FOR EACH STATEMENT EXECUTE FUNCTION networks_count_account_deletions();
"""
BACKWARD = """
DROP TRIGGER networks_account_deleted ON networks_networkaccount;
DROP FUNCTION networks_count_account_deletions();
DROP SEQUENCE networks_account_deletions;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("networks", "0006_account_keys_bytewise"),
    ]

    operations = [migrations.RunPython(forward, backward)]
