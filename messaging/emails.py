"""Guests' email addresses: validation, masking and the keyed hash (issue 14.5).

An address is personal data, like a phone number (``messaging.phones``): it is stored
on the EmailMessage with a keyed hash, masked wherever it is shown and never put in a
URL, a file name or a log line (``boothsite.logs`` redacts any that slips in).
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

#: The longest address stored (RFC 5321's path limit, and ``EmailMessage.to``).
MAX_LENGTH = 254
INVALID_MESSAGE = "Enter a valid email address, like name@example.com."
# No allowlist: an address at "localhost" (Django allows it by default) reaches no guest.
_validate = EmailValidator(message=INVALID_MESSAGE, allowlist=[])


class InvalidEmail(ValueError):
    """The input is not a valid email address; ``message`` is safe to show."""

    def __init__(self, message: str = INVALID_MESSAGE) -> None:
        super().__init__(message)
        self.message = message


def normalise_email(raw: object) -> str:
    """Return ``raw`` as a valid address with its domain lower-cased, or raise InvalidEmail.

    Surrounding spaces are dropped; the local part keeps its case (it may matter to the
    mail server), the domain is lower-cased (it never does), so the per-address cap and
    an erase find ``Ann@Example.COM`` as ``Ann@example.com``. Django's EmailValidator
    decides what is valid; over ``MAX_LENGTH`` characters is invalid.

    :raises InvalidEmail: for a non-string, empty, too long or invalid address.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidEmail("Enter an email address.")
    value = raw.strip()
    if len(value) > MAX_LENGTH:
        raise InvalidEmail
    try:
        _validate(value)
    except ValidationError:
        raise InvalidEmail from None
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def mask_email(address: str) -> str:
    """Mask an address for display: ``jane.doe@example.com`` → ``j***@e***.com``.

    Keeps the first character of the local part and of the domain, and the domain's last
    label. An empty (erased) address is ``(erased)``; anything without ``@`` is ``***``.
    """
    if not address:
        return "(erased)"
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return "***"
    name, dot, tld = domain.rpartition(".")
    suffix = f".{tld}" if dot and name else ""
    return f"{local[0]}***@{domain[0]}***{suffix}"


def email_hash(address: str) -> str:
    """Return a keyed hash (HMAC-SHA256 with SECRET_KEY) of a normalised address.

    The local part is lower-cased too before hashing, so ``Ann@`` and ``ann@`` count as
    one address for caps and erasure. 64 hex characters.
    """
    key = hashlib.sha256(f"boothsite.email:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, address.lower().encode(), hashlib.sha256).hexdigest()
