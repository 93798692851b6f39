"""Random secrets for links and devices (no Django models imported)."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from django.conf import settings
from django.core import signing

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


TICKET_SALT = "boothsite.socket-ticket"
TICKET_MAX_AGE = 60


def socket_ticket(booth_id: uuid.UUID) -> str:
    """Return a signed ticket naming the booth, valid for ``TICKET_MAX_AGE`` seconds.

    Tickets are URL-safe (they travel in a WebSocket subprotocol) and reusable within
    their minute, so a kiosk can reconnect after a network blip.
    """
    return signing.dumps(booth_id.hex, salt=TICKET_SALT, compress=False).replace(":", ".")


def booth_id_from_ticket(ticket: str) -> uuid.UUID | None:
    """Return the booth id a valid, unexpired ticket names, or None."""
    try:
        value = signing.loads(ticket.replace(".", ":"), salt=TICKET_SALT, max_age=TICKET_MAX_AGE)
        return uuid.UUID(str(value))
    except (signing.BadSignature, ValueError):
        return None
