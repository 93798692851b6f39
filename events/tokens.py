"""Random secrets for links and devices (no Django models imported)."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings

BOOTH_TOKEN_PREFIX = "bth_"  # noqa: S105  (a type prefix, not a secret)
PAIRING_CODE_PREFIX = "pair_"


def link_token() -> str:
    """Return a URL-safe secret of ``BOOTHSITE_TOKEN_BYTES`` random bytes (128 bits by default).

    Used as the default of share and gallery token fields; the W3C TAG's capability-URL
    guidance asks for at least 120 bits.
    """
    return secrets.token_urlsafe(settings.BOOTHSITE_TOKEN_BYTES)


def hash_secret(value: str) -> str:
    """Return the hex SHA-256 of a high-entropy secret (tokens, not passwords)."""
    return hashlib.sha256(value.encode()).hexdigest()


def new_booth_token() -> tuple[str, str, str]:
    """Return ``(token, lookup_prefix, token_hash)`` for a new booth API token.

    The token is ``bth_`` followed by 43 URL-safe characters (32 random bytes). Only
    its first 8 random characters (the lookup prefix) and its hash are stored.
    """
    random_part = secrets.token_urlsafe(32)
    token = f"{BOOTH_TOKEN_PREFIX}{random_part}"
    return token, random_part[:8], hash_secret(token)


def new_pairing_code() -> tuple[str, str]:
    """Return ``(code, code_hash)`` for a one-time booth pairing code."""
    code = f"{PAIRING_CODE_PREFIX}{secrets.token_urlsafe(18)}"
    return code, hash_secret(code)
