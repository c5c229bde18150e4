"""Explanations refer to the people they are about instead of freezing their handles.

Rows written before this named the strongest reactor in their text ("your strongest reactor is
@x"); which account that was cannot be told from a handle alone, so those sentences lose the name
and get no reference: pages then leave them out rather than name someone who may be hidden.
"""

import django.db.models.deletion
from django.db import migrations, models

UNNAMED = "your strongest reactor"


def forget_frozen_names(apps, schema_editor):
    Explanation = apps.get_model("scoring", "Explanation")
    Explanation.objects.filter(kind="person").exclude(text=UNNAMED).update(text=UNNAMED)


class Migration(migrations.Migration):
    dependencies = [
        ("networks", "0009_sequence_caches"),
        ("scoring", "0003_kloutids"),
    ]

    operations = [
        migrations.AddField(
            model_name="explanation",
            name="about_account",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="networks.networkaccount",
            ),
        ),
        migrations.RunPython(forget_frozen_names, migrations.RunPython.noop, elidable=True),
    ]
