"""Encryption at rest of organisers' own SMS credentials (Fernet; no models here).

The keys are ``BOOTHSITE_CREDENTIALS_KEY``: Fernet keys, comma-separated; the first
encrypts and every one decrypts (``MultiFernet``), so a key is rotated by putting a new
one first. Production must set it (settings refuse to start without it). In the
embedded mode an unset key is derived from ``SECRET_KEY`` with HKDF-SHA256, so a
changed ``SECRET_KEY`` makes stored credentials unreadable (``UnreadableCredentials``):
the organiser enters them again.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

#: HKDF's context for the embedded key: a changed label gives an unrelated key.
DERIVATION_INFO = b"boothsite sms credentials v1"


class UnreadableCredentials(Exception):
    """A stored value that none of the configured keys decrypts (key changed or lost)."""


def derive_key(secret_key: str) -> bytes:
    """Return the Fernet key (44 url-safe base64 bytes) HKDF-SHA256 derives from ``secret_key``."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=DERIVATION_INFO).derive(
        secret_key.encode()
    )
    return base64.urlsafe_b64encode(raw)


def _fernet() -> MultiFernet:
    configured = [key.strip() for key in settings.BOOTHSITE_CREDENTIALS_KEY.split(",")]
    keys = [key.encode() for key in configured if key]
    if not keys:
        if not settings.EMBEDDED:
            msg = "BOOTHSITE_CREDENTIALS_KEY must be set outside the embedded mode."
            raise ImproperlyConfigured(msg)
        keys = [derive_key(settings.SECRET_KEY)]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(value: str) -> str:
    """Return ``value`` encrypted and authenticated with the first key (a Fernet token, ASCII)."""
    return _fernet().encrypt(value.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """Return the text that ``encrypt`` turned into ``token``.

    :raises UnreadableCredentials: when no configured key opens it (a changed key, or a
        token tampered with).
    """
    try:
        return _fernet().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError):
        raise UnreadableCredentials from None
