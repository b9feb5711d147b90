"""The hash algorithms of the audit chain: SHA-256 or SM3 (国密), plain or keyed (HMAC).

``AUDIT_HASH_ALGORITHM`` chooses the hash (``sha256``, the default, or ``sm3``, which
OpenSSL provides); ``AUDIT_HMAC_KEY`` (a secret kept outside the database) makes the
chain keyed: new events are then hashed with ``hmac-sha256`` or ``hmac-sm3``. Every
event records its algorithm, so a chain can change algorithm and still verify.
"""

from __future__ import annotations

import functools
import hashlib
import hmac

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

LEGACY = "sha256"  # the chain's first algorithm: plain SHA-256, not named in the content
HASHES = ("sha256", "sm3")
ALGORITHMS = ("sha256", "sm3", "hmac-sha256", "hmac-sm3")


def is_keyed(algorithm: str) -> bool:
    return algorithm.startswith("hmac-")


def hmac_key() -> bytes:
    return (getattr(settings, "AUDIT_HMAC_KEY", "") or "").encode()


def current_algorithm() -> str:
    """The algorithm new events are hashed with, from the settings."""
    name = (getattr(settings, "AUDIT_HASH_ALGORITHM", "") or LEGACY).lower()
    if name not in HASHES:
        raise ImproperlyConfigured(
            f"AUDIT_HASH_ALGORITHM must be one of {', '.join(HASHES)}, not {name!r}."
        )
    return f"hmac-{name}" if hmac_key() else name


@functools.cache
def _keyed(name: str, key: bytes) -> hmac.HMAC:
    return hmac.new(key, digestmod=name)


def hasher(algorithm: str, key: bytes | None = None):  # noqa: ANN201 (a hash function)
    """A function bytes → hex digest for ``algorithm``; a keyed one needs the key."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown audit hash algorithm {algorithm!r}")
    if not is_keyed(algorithm):
        name = algorithm
        return lambda content: hashlib.new(name, content).hexdigest()
    key = hmac_key() if key is None else key
    if not key:
        raise ImproperlyConfigured(
            f"The audit chain has events hashed with {algorithm}: set AUDIT_HMAC_KEY to verify "
            "or extend it."
        )
    keyed = _keyed(algorithm.removeprefix("hmac-"), key)  # the key schedule, done once

    def digest(content: bytes) -> str:
        mac = keyed.copy()
        mac.update(content)
        return mac.hexdigest()

    return digest


def digest(algorithm: str, content: bytes) -> str:
    return hasher(algorithm)(content)
