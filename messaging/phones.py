"""Phone numbers: E.164 validation with libphonenumber, masking and keyed hashes."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

import phonenumbers
from django.conf import settings
from phonenumbers import PhoneNumberType

from events.exceptions import DomainError

INVALID_MESSAGE = "Enter a valid mobile number in international format, e.g. +447400123456."
TYPE_MESSAGE = "This number cannot receive SMS from this service."

# Types that can receive an SMS link. Everything else (premium rate, shared cost, toll
# free, pager, UAN, voicemail, fixed line) is refused: they are what SMS pumping targets
# (RELIABILITY 4). libphonenumber cannot tell mobile from fixed in the US.
SMS_CAPABLE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


ALL_COUNTRIES = frozenset(phonenumbers.SUPPORTED_REGIONS)


class InvalidPhone(DomainError):
    code = "invalid_phone"


def normalise_phone(raw: object, *, allowed_countries: Iterable[str]) -> str:
    """Return ``raw`` as E.164 (``+447400123456``) if it may receive a guest's link.

    Accepts international input with spaces (``+44 7400 123456``). Raises InvalidPhone
    with a user-facing message for anything that is not a valid number in international
    format, a number of a type that cannot receive SMS, or a country not in
    ``allowed_countries`` (ISO 3166 codes).
    """
    if not isinstance(raw, str):
        raise InvalidPhone(INVALID_MESSAGE)
    if any(c in raw for c in "\r\n\t;\x00"):
        raise InvalidPhone(INVALID_MESSAGE)
    text = raw.strip(" ")
    if not text.startswith("+") or text.startswith("+0"):
        raise InvalidPhone(INVALID_MESSAGE)
    if not all(c.isdigit() or c in "+ -()." for c in text):
        raise InvalidPhone(INVALID_MESSAGE)
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(INVALID_MESSAGE) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(INVALID_MESSAGE)
    if phonenumbers.number_type(number) not in SMS_CAPABLE_TYPES:
        raise InvalidPhone(TYPE_MESSAGE)
    region = phonenumbers.region_code_for_number(number)
    if region not in set(allowed_countries):
        msg = f"SMS to {region} is not enabled for this event."
        raise InvalidPhone(msg)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str) -> str:
    """Mask an E.164 number for display: ``+447400123456`` → ``+44 74** ***456``.

    Keeps the country code, the first two and the last three national digits.
    """
    if not e164:
        return "(erased)"
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return "***"
    national = str(number.national_number)
    hidden = max(len(national) - 5, 0)
    masked = national[:2] + "*" * hidden + national[2 + hidden :]
    return f"+{number.country_code} {masked[:4]} {masked[4:]}".rstrip()


def phone_hash(e164: str) -> str:
    """Return a keyed hash (HMAC-SHA256 with SECRET_KEY) of a number, for search and audit."""
    key = hashlib.sha256(f"boothsite.phone:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, e164.encode(), hashlib.sha256).hexdigest()
