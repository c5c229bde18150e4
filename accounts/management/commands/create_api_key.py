"""Create an API key for a partner; the key is printed on the last line (for scripts)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from accounts.services import ApiKeyError, create_api_key


class Command(BaseCommand):
    help = "Create an API key named NAME and print it (once: only its hash is stored)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--owner", help="e-mail of the person who owns the key (optional)")

    def handle(self, *args: Any, **options: Any) -> None:
        user_id = None
        if options["owner"]:
            user = User.objects.filter(email__iexact=options["owner"]).first()
            if user is None:
                raise CommandError(f"No person with the e-mail {options['owner']!r}.")
            user_id = user.pk
        try:
            key, raw = create_api_key(name=options["name"], user_id=user_id)
        except ApiKeyError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"API key {key.name!r} ({key.per_second}/s, {key.per_day}/day). "
            "Store it now: it is not shown again."
        )
        self.stdout.write(raw)
