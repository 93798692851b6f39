"""Limits on guessing secrets: gallery passcodes and capability-URL tokens.

Counted with django-ratelimit (its fixed windows in the shared cache: Redis in
production, so every server process sees one count). Only failures are counted
(``record_failure``); ``retry_after`` is checked before the secret is, so once a key is
over its limit even the right secret waits, or a guesser could go on telling right from
wrong. Logins are limited by django-axes instead (``events.auth``).

When the cache cannot be reached the limits fail open, with a logged warning: a Redis
outage must not lock guests out of their photos, and the secrets stay unguessable
without it (128-bit link tokens; passcodes are stored hashed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage  # type: ignore[import-untyped]
from redis.exceptions import RedisError

from events.clientip import client_ip

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    """One counter: ``group`` names it, ``setting`` names its rate ("10/15m" style).

    The rate is read from settings at each call, so ``override_settings`` works. Its
    form is django-ratelimit's: a count, a slash, an optional multiplier and a unit
    (s, m, h, d), for example ``"60/m"`` or ``"10/15m"``.
    """

    group: str
    setting: str

    @property
    def rate(self) -> str:
        return str(getattr(settings, self.setting))


#: Wrong gallery passcodes per client address (any gallery).
PASSCODE_PER_IP = Limit("boothsite.passcode.ip", "BOOTHSITE_PASSCODE_RATE_PER_IP")
#: Wrong passcodes per gallery (any address): the guard against many addresses.
PASSCODE_PER_GALLERY = Limit("boothsite.passcode.gallery", "BOOTHSITE_PASSCODE_RATE_PER_GALLERY")
#: Unknown share or gallery tokens (404s of capability-URL pages) per client address.
LINK_MISSES_PER_IP = Limit("boothsite.link-miss.ip", "BOOTHSITE_LINK_MISS_RATE")


def _usage(
    request: HttpRequest, limit: Limit, key: str, *, increment: bool
) -> dict[str, int] | None:
    try:
        usage: dict[str, int] | None = get_usage(
            request,
            group=limit.group,
            key=lambda group, request: key,
            rate=limit.rate,
            increment=increment,
        )
    except (RedisError, OSError) as exc:
        logger.warning("Guessing limit %s not applied: cache unavailable (%s)", limit.group, exc)
        return None
    return usage


def retry_after(request: HttpRequest, limit: Limit, key: str | None = None) -> int | None:
    """Return the seconds to wait if ``key`` is over ``limit``, else None.

    ``key`` defaults to the client's address (``events.clientip.client_ip``); a gallery
    is keyed by its event's primary key, never by its secret token. Counts nothing.
    """
    usage = _usage(request, limit, client_ip(request) if key is None else key, increment=False)
    if usage is None or usage["count"] < usage["limit"]:
        return None
    return max(1, int(usage["time_left"]))


def record_failure(request: HttpRequest, limit: Limit, key: str | None = None) -> None:
    """Count one failed guess against ``limit`` for ``key`` (default: the client's address)."""
    _usage(request, limit, client_ip(request) if key is None else key, increment=True)


def retry_after_any(request: HttpRequest, checks: list[tuple[Limit, str | None]]) -> int | None:
    """Return the longest wait among ``checks`` (pairs of limit and key) that are over."""
    waits = [wait for limit, key in checks if (wait := retry_after(request, limit, key))]
    return max(waits) if waits else None
