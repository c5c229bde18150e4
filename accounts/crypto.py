"""Encryption of provider tokens at rest: MultiFernet over settings.TOKEN_ENCRYPTION_KEYS."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class TokenKeyError(RuntimeError):
    """The token-encryption keys are missing or unusable; nothing was encrypted or saved."""


def token_cipher() -> MultiFernet:
    """Return the cipher for the configured keys (newest first), or fail with a clear message."""
    keys = list(getattr(settings, "TOKEN_ENCRYPTION_KEYS", []) or [])
    if not keys:
        raise TokenKeyError(
            "TOKEN_ENCRYPTION_KEYS is empty: set it to one or more Fernet keys (newest first). "
            'Make one with: python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"'
        )
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            raise TokenKeyError(
                f"TOKEN_ENCRYPTION_KEYS key #{position} is not a Fernet key "
                "(32 url-safe base64-encoded bytes)"
            ) from None
    return MultiFernet(fernets)


def encrypt_token(plain: str) -> bytes:
    """Encrypt a token under the newest key; the empty string stays empty."""
    if not plain:
        return b""
    return token_cipher().encrypt(plain.encode())


def decrypt_token(cipher_text: bytes | memoryview) -> str:
    """Decrypt with any configured key; a token no key opens is a TokenKeyError."""
    data = bytes(cipher_text)
    if not data:
        return ""
    try:
        return token_cipher().decrypt(data).decode()
    except InvalidToken:
        raise TokenKeyError(
            "a stored token cannot be decrypted with any key in TOKEN_ENCRYPTION_KEYS "
            "(was an old key removed before running rotate_token_keys?)"
        ) from None


def rotate_token(cipher_text: bytes | memoryview) -> bytes:
    """Re-encrypt a stored token under the newest key."""
    data = bytes(cipher_text)
    if not data:
        return b""
    try:
        return token_cipher().rotate(data)
    except InvalidToken:
        raise TokenKeyError(
            "a stored token cannot be decrypted with any key in TOKEN_ENCRYPTION_KEYS; "
            "keep the old key in the list (after the new one) while rotating"
        ) from None
