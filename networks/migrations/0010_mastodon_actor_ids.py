"""A Mastodon account has one external id: its actor URI (issue 12, item 2).

Linking used to store allauth's uid (`id@host`) as the external id, while everyone else's data
(outboxes, notifications) names the same account by its actor URI: two rows for one person,
and opt-out or deletion hid only the first. Each linked row (`id@host`) now takes the actor URI
(`https://host/users/name`, from its `name@host` handle) and keeps the uid as `login_uid`; when
a row with that actor URI exists already, its interactions, posts and sync runs move to the
linked row and it is deleted (its derived rows, such as scores, go with it and are recomputed
by the next scoring run). A merged account hidden by either row stays hidden and is purged.
"""

from typing import Any

from django.apps import apps as global_apps
from django.db import migrations, models
from django.db.models import Q


def actor_of(handle: str) -> str | None:
    if handle.count("@") != 1:
        return None
    name, host = handle.split("@")
    return f"https://{host}/users/{name}" if name and host else None


def merge_mastodon_ids(apps: Any, schema_editor: Any) -> None:
    NetworkAccount = apps.get_model("networks", "NetworkAccount")
    Interaction = apps.get_model("networks", "Interaction")
    Post = apps.get_model("networks", "Post")
    SyncRun = apps.get_model("networks", "SyncRun")
    legacy = NetworkAccount.objects.filter(network="mastodon").exclude(
        external_id__startswith="https://"
    )
    for linked in list(legacy):
        actor = actor_of(linked.handle)
        if actor is None:
            continue
        other = NetworkAccount.objects.filter(network="mastodon", external_id=actor).first()
        hidden = linked.opted_out or linked.protected
        if other is not None:
            Interaction.objects.filter(actor_id=other.pk).update(actor_id=linked.pk)
            Interaction.objects.filter(receiver_id=other.pk).update(receiver_id=linked.pk)
            Interaction.objects.filter(actor_id=linked.pk, receiver_id=linked.pk).delete()
            Post.objects.filter(account_id=other.pk).update(account_id=linked.pk)
            SyncRun.objects.filter(account_id=other.pk).update(account_id=linked.pk)
            hidden = hidden or other.opted_out or other.protected
            NetworkAccount.objects.filter(pk=linked.pk).update(
                opted_out=linked.opted_out or other.opted_out,
                protected=linked.protected or other.protected,
            )
            if linked.user_id is None and other.user_id is not None:
                NetworkAccount.objects.filter(pk=linked.pk).update(user_id=other.user_id)
            # The current model, so that rows of later apps (scores) go with it by cascade.
            global_apps.get_model("networks", "NetworkAccount").objects.filter(
                pk=other.pk
            ).delete()
        NetworkAccount.objects.filter(pk=linked.pk).update(
            external_id=actor, login_uid=linked.external_id
        )
        if hidden:
            Interaction.objects.filter(Q(actor_id=linked.pk) | Q(receiver_id=linked.pk)).delete()
            Post.objects.filter(account_id=linked.pk).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("networks", "0009_sequence_caches"),
    ]

    operations = [
        migrations.AddField(
            model_name="networkaccount",
            name="login_uid",
            field=models.CharField(blank=True, db_default="", default="", max_length=255),
        ),
        migrations.RunPython(merge_mastodon_ids, migrations.RunPython.noop),
    ]
