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
NATIONAL_MESSAGE = (
    "Enter the number in international format, with its country code in place of the "
    "leading 0, e.g. +447400123456 or 447400123456."
)
TYPE_MESSAGE = "This number cannot receive SMS from this service."

# Ofcom's drama range, +44 7700 900000 to +44 7700 900999: reserved for fiction, it
# reaches no one (https://www.ofcom.org.uk/phones-and-broadband/phone-numbers/
# numbers-for-drama). libphonenumber calls these numbers invalid; the console gateway
# (which sends nothing) accepts them, so a demo can share to a fresh number every run.
FICTIONAL_FIRST = "+447700900000"
FICTIONAL_LAST = "+447700900999"
FICTIONAL_MESSAGE = (
    "+44 7700 900000 to 900999 are Ofcom's drama numbers: they reach no one, so they "
    "are accepted only with the console SMS gateway (BOOTHSITE_SMS_GATEWAY=console)."
)

# Types that can receive an SMS link. Everything else (premium rate, shared cost, toll
# free, pager, UAN, voicemail, fixed line) is refused: they are what SMS pumping targets
# (RELIABILITY 4). libphonenumber cannot tell mobile from fixed in the US.
SMS_CAPABLE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


ALL_COUNTRIES = frozenset(phonenumbers.SUPPORTED_REGIONS)


class InvalidPhone(DomainError):
    code = "invalid_phone"


def is_fictional(e164: str) -> bool:
    """Return whether the E.164 string ``e164`` is in Ofcom's drama range.

    True exactly for ``FICTIONAL_FIRST`` (``+447700900000``) to ``FICTIONAL_LAST``
    (``+447700900999``); never raises.
    """
    return len(e164) == len(FICTIONAL_FIRST) and FICTIONAL_FIRST <= e164 <= FICTIONAL_LAST


def normalise_phone(raw: object, *, allowed_countries: Iterable[str]) -> str:
    """Return ``raw`` as E.164 (``+447400123456``) if it may receive a guest's link.

    Accepts international input with spaces (``+44 7400 123456``), and digits with the
    country code but no plus (``447400123456``, ``12023334455``: what the seed front end
    sends), read as international. Ofcom's drama numbers (``is_fictional``) are accepted
    only while ``BOOTHSITE_SMS_GATEWAY`` is ``console``.

    Raises InvalidPhone with a user-facing message: NATIONAL_MESSAGE for a leading 0
    (national format), INVALID_MESSAGE for anything else that is not a valid number,
    FICTIONAL_MESSAGE for a drama number with a real gateway, TYPE_MESSAGE for a type
    that cannot receive SMS, and a message naming the setting that would allow it for a
    country not in ``allowed_countries`` (ISO 3166 codes).
    """
    if not isinstance(raw, str):
        raise InvalidPhone(INVALID_MESSAGE)
    if any(c in raw for c in "\r\n\t;\x00"):
        raise InvalidPhone(INVALID_MESSAGE)
    text = raw.strip(" ")
    if not all(c.isdigit() or c in "+ -()." for c in text):
        raise InvalidPhone(INVALID_MESSAGE)
    if text.startswith("0"):
        raise InvalidPhone(NATIONAL_MESSAGE)
    if text[:1].isdigit():
        text = "+" + text
    if not text.startswith("+") or text.startswith("+0"):
        raise InvalidPhone(INVALID_MESSAGE)
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(INVALID_MESSAGE) from None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    region: str | None
    if is_fictional(e164):
        if settings.BOOTHSITE_SMS_GATEWAY != "console":
            raise InvalidPhone(FICTIONAL_MESSAGE)
        region = "GB"
    else:
        if not phonenumbers.is_valid_number(number):
            raise InvalidPhone(INVALID_MESSAGE)
        if phonenumbers.number_type(number) not in SMS_CAPABLE_TYPES:
            raise InvalidPhone(TYPE_MESSAGE)
        region = phonenumbers.region_code_for_number(number)
    if region is None:  # a valid number of a non-geographic code (+800, +882…)
        raise InvalidPhone(TYPE_MESSAGE)
    if region not in set(allowed_countries):
        raise InvalidPhone(country_message(region))
    return e164


def country_message(region: str) -> str:
    """Return the refusal for a number of ``region`` (ISO 3166), naming what allows it.

    The event's ``sms_allowed_countries`` only narrows the platform's
    ``BOOTHSITE_SMS_COUNTRIES``, so a country the platform refuses names the platform's
    setting instead.
    """
    platform = {code.upper() for code in settings.BOOTHSITE_SMS_COUNTRIES}
    if region in platform:
        return (
            f"SMS to {region} numbers is not enabled for this event. The organiser can "
            f"allow {region} in the event's SMS countries (sms_allowed_countries)."
        )
    return (
        f"SMS to {region} numbers is not enabled on this site. Its operator can allow "
        f"{region} in BOOTHSITE_SMS_COUNTRIES."
    )


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
