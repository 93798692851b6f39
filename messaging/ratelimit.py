"""A global send-rate limiter shared by every worker (through the cache, Redis in production).

Vonage allows 30 requests per second per API key by default and answers status 1 beyond
that (https://api.support.vonage.com/hc/en-us/articles/203993598). Celery's own
``rate_limit`` is per worker, so the budget is counted in one shared place instead.
"""

from __future__ import annotations

import time

from django.core.cache import cache


def seconds_until_slot(rate: int, *, now: float | None = None) -> float:
    """Take one send slot in the current second; return 0.0, or seconds to wait if none.

    A fixed one-second window counted with an atomic increment (Redis INCR through the
    cache when Redis is configured). ``rate`` is sends per second.
    """
    now = time.time() if now is None else now
    window = int(now)
    key = f"sms-rate:{window}"
    cache.add(key, 0, timeout=5)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr: start the window again
        cache.set(key, 1, timeout=5)
        used = 1
    if used <= rate:
        return 0.0
    return max(0.01, window + 1 - now)
