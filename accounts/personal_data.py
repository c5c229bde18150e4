"""Finding every row about a person, in every app, for export and deletion.

Generic on purpose: rows with a foreign key to the user are found by walking the model registry,
so a new model in any app is covered without touching this file. Rows that name a person some
other way (e.g. by linked-account id) are contributed by their app through accounts.signals.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from accounts.models import User

# Secrets are ours to keep safe, not to hand out in a zip: never exported.
_NEVER_EXPORTED = {"password", "unsubscribe_token"}
_NEVER_EXPORTED_PER_MODEL = {"mfa.authenticator": {"data"}}  # TOTP secrets, recovery codes


@dataclass(frozen=True)
class UserLink:
    """A model field that points at a user."""

    model: type[models.Model]
    field: str

    @property
    def label(self) -> str:
        return f"{self.model._meta.label_lower}.{self.field}"


def user_links() -> list[UserLink]:
    """Every foreign key and one-to-one field, in every installed app, that points at User."""
    links = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is User:
                links.append(UserLink(model=model, field=field.name))
    return sorted(links, key=lambda link: link.label)


def generic_links() -> list[tuple[type[models.Model], str, str]]:
    """(model, content_type field, object id field) for every generic foreign key."""
    found = []
    for model in apps.get_models():
        for field in model._meta.private_fields:
            if isinstance(field, GenericForeignKey):
                found.append((model, field.ct_field, field.fk_field))
    return found


def rows_naming(user: User) -> Iterator[tuple[str, models.QuerySet[Any]]]:
    """(section, queryset) for every group of rows that names the user by key."""
    yield "accounts.user", User.objects.filter(pk=user.pk)
    for link in user_links():
        yield link.label, link.model._default_manager.filter(**{link.field: user.pk})
    user_type = ContentType.objects.get_for_model(User)
    for model, ct_field, fk_field in generic_links():
        yield (
            f"{model._meta.label_lower}.{fk_field}",
            model._default_manager.filter(**{ct_field: user_type, fk_field: str(user.pk)}),
        )


def exportable_rows(queryset: models.QuerySet[Any]) -> list[dict[str, Any]]:
    """The rows as JSON-ready dicts, without secrets or binary fields."""
    model = queryset.model
    hidden = _NEVER_EXPORTED | _NEVER_EXPORTED_PER_MODEL.get(model._meta.label_lower, set())
    fields = [
        f.attname
        for f in model._meta.concrete_fields
        if f.name not in hidden and not isinstance(f, models.BinaryField)
    ]
    rows = list(queryset.values(*fields))
    # Round-trip through the encoder so dates, decimals and UUIDs become plain JSON.
    return json.loads(json.dumps(rows, cls=DjangoJSONEncoder))
