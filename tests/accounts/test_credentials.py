"""Encrypted provider credentials: storage, key rotation, refresh before expiry."""

from __future__ import annotations

import datetime

import pytest
import requests
import responses
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from accounts import signals
from accounts.crypto import TokenKeyError, decrypt_token, encrypt_token
from accounts.models import CredentialStatus, ProviderCredential
from accounts.services import refresh_credential, refresh_expiring_credentials
from accounts.tasks import refresh_expiring_credentials as refresh_task
from accounts.token_refresh import RefreshFailed
from tests.factories.accounts import ProviderCredentialFactory

pytestmark = pytest.mark.django_db
GITHUB_TOKEN_URL = "https://github.com/login/oauth/access_token"
OLD_KEY = "wrFQtjhkbGtCgAuur_KDVKrz8tFA0YgU0Xe7Zh3H62g="
NEW_KEY = "m9bm_TeQlbhsWq5rmZd6gwKIJpr9MpwF-87gnQ15GBg="


def test_tokens_are_stored_encrypted_and_read_back() -> None:
    credential = ProviderCredentialFactory.create()
    stored = bytes(ProviderCredential.objects.get(pk=credential.pk).access_token_enc)
    assert b"old-access" not in stored
    assert decrypt_token(stored) == "old-access"


@override_settings(TOKEN_ENCRYPTION_KEYS=[])
def test_a_missing_encryption_key_is_a_clear_error() -> None:
    with pytest.raises(TokenKeyError, match="TOKEN_ENCRYPTION_KEYS is empty"):
        encrypt_token("secret")


@override_settings(TOKEN_ENCRYPTION_KEYS=["not-a-fernet-key"])
def test_an_invalid_encryption_key_is_a_clear_error() -> None:
    with pytest.raises(TokenKeyError, match="key #1 is not a Fernet key"):
        encrypt_token("secret")


def test_rotate_token_keys_re_encrypts_under_the_newest_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given credentials written under the old key
    with override_settings(TOKEN_ENCRYPTION_KEYS=[OLD_KEY]):
        credential = ProviderCredentialFactory.create()
    # when the new key is put first and the command runs
    with override_settings(TOKEN_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        call_command("rotate_token_keys")
    # then the new key alone can read every token
    assert "Re-encrypted 1 rows" in capsys.readouterr().out
    credential.refresh_from_db()
    with override_settings(TOKEN_ENCRYPTION_KEYS=[NEW_KEY]):
        assert decrypt_token(credential.access_token_enc) == "old-access"
        assert decrypt_token(credential.refresh_token_enc) == "old-refresh"


def test_rotate_token_keys_without_the_old_key_changes_nothing() -> None:
    with override_settings(TOKEN_ENCRYPTION_KEYS=[OLD_KEY]):
        credential = ProviderCredentialFactory.create()
    before = bytes(credential.access_token_enc)
    with (
        override_settings(TOKEN_ENCRYPTION_KEYS=[NEW_KEY]),
        pytest.raises(CommandError, match="Nothing was changed"),
    ):
        call_command("rotate_token_keys")
    credential.refresh_from_db()
    assert bytes(credential.access_token_enc) == before


@override_settings(TOKEN_ENCRYPTION_KEYS=[])
def test_rotate_token_keys_with_no_key_says_what_to_set() -> None:
    with pytest.raises(CommandError, match="TOKEN_ENCRYPTION_KEYS is empty"):
        call_command("rotate_token_keys")


@responses.activate
def test_refresh_stores_the_new_tokens_encrypted() -> None:
    credential = ProviderCredentialFactory.create()
    responses.post(
        GITHUB_TOKEN_URL,
        json={"access_token": "new-access", "refresh_token": "new-refresh", "expires_in": 3600},
    )
    refresh_credential(credential_id=credential.pk)
    credential.refresh_from_db()
    assert decrypt_token(credential.access_token_enc) == "new-access"
    assert decrypt_token(credential.refresh_token_enc) == "new-refresh"
    assert credential.expires_at is not None
    assert credential.expires_at > timezone.now() + datetime.timedelta(minutes=50)
    assert "refresh_token=old-refresh" in str(responses.calls[0].request.body)


@pytest.mark.parametrize("status", [400, 401])
@responses.activate
def test_a_refused_refresh_marks_the_link_needs_reconnect_and_signals(status: int) -> None:
    credential = ProviderCredentialFactory.create()
    responses.post(GITHUB_TOKEN_URL, status=status, json={"error": "invalid_grant"})
    heard: list[dict[str, object]] = []

    def listener(**kwargs: object) -> None:
        heard.append(kwargs)

    signals.credential_needs_reconnect.connect(listener)
    try:
        refresh_credential(credential_id=credential.pk)
    finally:
        signals.credential_needs_reconnect.disconnect(listener)
    credential.refresh_from_db()
    assert credential.status == CredentialStatus.NEEDS_RECONNECT
    assert credential.last_error == "github refused the refresh token"  # plain words, no codes
    assert heard[0]["uid"] == credential.uid


@pytest.mark.parametrize(
    "failure",
    [{"status": 500}, {"body": requests.Timeout("read timed out")}],
    ids=["provider-500", "timeout"],
)
@responses.activate
def test_a_transient_refresh_failure_leaves_the_credential_unchanged(failure: dict) -> None:
    credential = ProviderCredentialFactory.create()
    before = ProviderCredential.objects.values().get(pk=credential.pk)
    responses.post(GITHUB_TOKEN_URL, **failure)
    with pytest.raises(RefreshFailed):
        refresh_credential(credential_id=credential.pk)
    assert ProviderCredential.objects.values().get(pk=credential.pk) == before


@responses.activate
def test_the_periodic_task_refreshes_only_credentials_about_to_expire() -> None:
    expiring = ProviderCredentialFactory.create()
    fresh = ProviderCredentialFactory.create(expires_at=timezone.now() + datetime.timedelta(days=1))
    responses.post(GITHUB_TOKEN_URL, json={"access_token": "new-access", "expires_in": 3600})
    result = refresh_task.delay().get()
    assert result == {"refreshed": 1, "needs_reconnect": 0, "failed": 0}
    expiring.refresh_from_db()
    fresh.refresh_from_db()
    assert decrypt_token(expiring.access_token_enc) == "new-access"
    assert decrypt_token(expiring.refresh_token_enc) == "old-refresh"  # not rotated: kept
    assert decrypt_token(fresh.access_token_enc) == "old-access"


@responses.activate
def test_the_periodic_task_counts_transient_failures_and_carries_on() -> None:
    ProviderCredentialFactory.create()
    responses.post(GITHUB_TOKEN_URL, status=503)
    assert refresh_expiring_credentials() == {"refreshed": 0, "needs_reconnect": 0, "failed": 1}
