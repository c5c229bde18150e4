"""Re-encrypt every stored provider token under the newest key in TOKEN_ENCRYPTION_KEYS."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from accounts.crypto import TokenKeyError, rotate_token, token_cipher
from accounts.models import MastodonApp, ProviderCredential


class Command(BaseCommand):
    help = (
        "Re-encrypt stored tokens under the newest key. Put the new key first in "
        "TOKEN_ENCRYPTION_KEYS, keep the old ones after it, run this, then drop the old keys."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            token_cipher()
        except TokenKeyError as exc:
            raise CommandError(str(exc)) from None
        rotated = 0
        total = ProviderCredential.objects.count() + MastodonApp.objects.count()
        with tqdm(total=total, desc="re-encrypting", unit="row", file=sys.stderr) as bar:
            try:
                with transaction.atomic():
                    # All or nothing: a token no key opens leaves every row as it was.
                    for credential in ProviderCredential.objects.select_for_update().iterator():
                        credential.access_token_enc = rotate_token(credential.access_token_enc)
                        credential.refresh_token_enc = rotate_token(credential.refresh_token_enc)
                        credential.save(update_fields=["access_token_enc", "refresh_token_enc"])
                        rotated += 1
                        bar.update()
                    for app in MastodonApp.objects.select_for_update().iterator():
                        app.client_secret_enc = rotate_token(app.client_secret_enc)
                        app.save(update_fields=["client_secret_enc"])
                        rotated += 1
                        bar.update()
            except TokenKeyError as exc:
                raise CommandError(f"{exc}. Nothing was changed.") from None
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {rotated} rows under the newest key."))
