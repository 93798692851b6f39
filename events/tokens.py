"""Random secrets for links and devices (no Django models imported)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

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


@dataclass(frozen=True)
class SocketTicket:
    """What a valid socket ticket says: the booth, and the API token it was issued for."""

    booth_id: uuid.UUID
    generation: str


def ticket_generation(token_hash: str) -> str:
    """Return the 16 hex characters naming a booth's current API token in its tickets.

    ``token_hash`` is the booth's stored ``token_hash``. The value is a SHA-256 of it (a
    ticket is signed, not encrypted, so it carries nothing of the token or its hash). A
    new token (rotation, pairing) gives a new generation, so every ticket issued for the
    old one stops connecting.
    """
    return hashlib.sha256(f"{TICKET_SALT}:{token_hash}".encode()).hexdigest()[:16]


def socket_ticket(booth_id: uuid.UUID, token_hash: str) -> str:
    """Return a signed ticket for the booth, valid for ``TICKET_MAX_AGE`` seconds.

    ``token_hash`` is the booth's stored ``token_hash``: the ticket names its
    ``ticket_generation``, so rotating or re-pairing the booth invalidates it. Tickets
    are URL-safe (they travel in a WebSocket subprotocol) and reusable within their
    minute, so a kiosk can reconnect after a network blip.
    """
    value = [booth_id.hex, ticket_generation(token_hash)]
    return signing.dumps(value, salt=TICKET_SALT, compress=False).replace(":", ".")


def read_socket_ticket(ticket: str) -> SocketTicket | None:
    """Return what a valid, unexpired ticket says, or None (forged, expired, malformed)."""
    try:
        value = signing.loads(ticket.replace(".", ":"), salt=TICKET_SALT, max_age=TICKET_MAX_AGE)
    except signing.BadSignature:
        return None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        return None
    try:
        return SocketTicket(booth_id=uuid.UUID(value[0]), generation=value[1])
    except ValueError:
        return None


API_TOKEN_PREFIX = "bsk_"  # noqa: S105  (a type prefix, not a secret)


def new_api_token() -> tuple[str, str, str]:
    """Return ``(token, lookup_prefix, token_hash)`` for a new organiser API token.

    The token is ``bsk_`` followed by 43 URL-safe characters (32 random bytes). Only
    its first 8 random characters (the lookup prefix) and its hash are stored.
    """
    random_part = secrets.token_urlsafe(32)
    token = f"{API_TOKEN_PREFIX}{random_part}"
    return token, random_part[:8], hash_secret(token)
