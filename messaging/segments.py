r"""How many SMS segments a text takes: GSM-7 or UCS-2 (pure, no Django).

A text whose every character is in the GSM 03.38 basic table or its extension table is
sent GSM-7: 160 septets fit one SMS; a longer text is split into parts of 153 septets
(7 go to the concatenation header). An extension character (``€ [ ] { } \ ^ ~ |`` and
form feed) takes two septets, an escape and the character, and a part never ends
between the two. Any other character (an emoji, ``ç``, a curly quote) switches the
whole text to UCS-2: 70 UTF-16 code units in one SMS, 67 per part; an emoji outside the
BMP is two code units, and a part never ends between them.

``static/console-sms.js`` counts by the same rules (the console's live counter); the
tests in ``tests/messaging/test_segments.py`` pin them.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7 = "GSM-7"
UCS2 = "UCS-2"

#: The GSM 03.38 basic character set (the escape 0x1B left out), as Unicode.
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: The extension table: each character is sent as an escape and itself (two septets).
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")

#: Units in one SMS, and in each part of a longer one, per encoding.
SINGLE = {GSM7: 160, UCS2: 70}
PART = {GSM7: 153, UCS2: 67}

#: The most parts the console lets an event's SMS text take.
MAX_SEGMENTS = 3


@dataclass(frozen=True)
class SegmentCount:
    """What a text costs to send.

    ``encoding`` is ``GSM-7`` or ``UCS-2``; ``units`` its length in septets (GSM-7) or
    UTF-16 code units (UCS-2); ``segments`` the SMS it is split into (0 for ""),
    ``per_segment`` the units each of them holds (160 or 153, 70 or 67) and
    ``remaining`` the units still free in the last one. ``non_gsm`` lists, in order and
    once each, the characters that forced UCS-2 (empty for GSM-7).
    """

    encoding: str
    units: int
    segments: int
    per_segment: int
    remaining: int
    non_gsm: tuple[str, ...] = ()


def non_gsm_characters(text: str) -> tuple[str, ...]:
    """Return the characters of ``text`` outside GSM-7's two tables, once each, in order."""
    seen: dict[str, None] = {}
    for char in text:
        if char not in GSM_BASIC and char not in GSM_EXTENSION:
            seen.setdefault(char, None)
    return tuple(seen)


def _units(char: str, encoding: str) -> int:
    if encoding == GSM7:
        return 2 if char in GSM_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def count_segments(text: str) -> SegmentCount:
    """Return the encoding, length and number of SMS segments of ``text``.

    Parts are filled greedily, one character at a time, and a character that does not
    fit whole (an escape pair, a surrogate pair) starts the next part. Never raises.
    """
    non_gsm = non_gsm_characters(text)
    encoding = UCS2 if non_gsm else GSM7
    sizes = [_units(char, encoding) for char in text]
    units = sum(sizes)
    if units == 0:
        return SegmentCount(encoding, 0, 0, SINGLE[encoding], SINGLE[encoding], non_gsm)
    if units <= SINGLE[encoding]:
        return SegmentCount(encoding, units, 1, SINGLE[encoding], SINGLE[encoding] - units, non_gsm)
    part = PART[encoding]
    segments, used = 1, 0
    for size in sizes:
        if used + size > part:
            segments, used = segments + 1, 0
        used += size
    return SegmentCount(encoding, units, segments, part, part - used, non_gsm)


def is_unicode(text: str) -> bool:
    """Return whether ``text`` must be sent as UCS-2 (it has a character GSM-7 lacks)."""
    return bool(non_gsm_characters(text))
