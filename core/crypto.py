"""Encryption of confidential fields (an objector's identity and seal) with Fernet.

The keys come from ``FIELD_ENCRYPTION_KEY`` (one or more Fernet keys, comma
separated: the first encrypts, all decrypt, so a key can be rotated); without
it a key is derived from ``SECRET_KEY`` with HKDF. A separate key is better in
production: rotating ``SECRET_KEY`` would otherwise make every stored identity
unreadable.
"""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["InvalidToken", "decrypt_bytes", "decrypt_text", "encrypt_bytes", "encrypt_text"]

_HKDF_INFO = b"xm_eval field encryption v1"


def derived_key(secret: str) -> bytes:
    """A Fernet key derived from ``secret`` (HKDF-SHA256, fixed salt and purpose)."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"xm_eval", info=_HKDF_INFO).derive(
        secret.encode()
    )
    return base64.urlsafe_b64encode(raw)


@functools.cache
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if keys:
        try:
            return MultiFernet([Fernet(key.encode()) for key in keys])
        except ValueError as error:
            raise ImproperlyConfigured(
                "FIELD_ENCRYPTION_KEY must be Fernet keys (32 url-safe base64-encoded bytes), "
                "comma separated; make one with "
                '`python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())"`.'
            ) from error
    return MultiFernet([Fernet(derived_key(secret_key))])


def fernet() -> MultiFernet:
    """The Fernet of the current settings (cached per key set)."""
    return _fernet(tuple(getattr(settings, "FIELD_ENCRYPTION_KEYS", ())), settings.SECRET_KEY)


def encrypt_bytes(data: bytes) -> bytes:
    return fernet().encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    """The plain bytes; raises ``InvalidToken`` for a wrong key or altered data."""
    return fernet().decrypt(bytes(token))


def encrypt_text(text: str) -> str:
    return encrypt_bytes(text.encode()).decode("ascii")


def decrypt_text(token: str) -> str:
    return decrypt_bytes(token.encode("ascii")).decode()
