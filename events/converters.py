"""URL converters for console paths.

``/console/<organiser>/<event>/`` shares its shape with the console's fixed pages
(``/console/<organiser>/booths/``, ``…/team/``, ``…/monitor/``…). The ``event``
converter never matches those words, so the fixed pages resolve whatever the order of
the URL patterns, and ``events.models`` refuses them as event slugs.
"""

from __future__ import annotations

from django.urls import register_converter

#: Words that name console pages at ``/console/<organiser>/<word>/``; never event slugs.
RESERVED_CONSOLE_WORDS = frozenset(
    {
        "account",
        "api-tokens",
        "booths",
        "events",
        "members",
        "monitor",
        "new",
        "privacy",
        "settings",
        "sms-account",
        "stats",
        "switch",
        "team",
        "tokens",
        "webhooks",
    }
)


class EventSlugConverter:
    """A slug (``[-a-zA-Z0-9_]+``) that is not one of ``RESERVED_CONSOLE_WORDS``.

    Raising ValueError in ``to_python`` makes Django try the next URL pattern.
    """

    regex = "[-a-zA-Z0-9_]+"

    def to_python(self, value: str) -> str:
        if value in RESERVED_CONSOLE_WORDS:
            raise ValueError(value)
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(EventSlugConverter, "event")
