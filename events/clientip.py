"""The client's IP address, trusting ``X-Forwarded-For`` only from configured proxies.

One rule for every limit keyed by address: DRF's throttles (``NUM_PROXIES``), django-axes'
login lockouts (``AXES_CLIENT_IP_CALLABLE``) and django-ratelimit's keys
(``RATELIMIT_IP_META_KEY`` and ``events.guessing``). Anyone can send an
``X-Forwarded-For`` header, so with no proxy configured (``BOOTHSITE_TRUSTED_PROXIES=0``,
the default) it is ignored and the socket's peer address (``REMOTE_ADDR``) counts.
Behind N proxies that each append the address they saw, the client is the N-th address
from the right: the entries further left were written by the client and prove nothing.
This is DRF's ``get_ident`` rule with ``NUM_PROXIES`` set, so both always agree.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from rest_framework.request import Request


def client_ip(request: HttpRequest | Request) -> str:
    """Return the client's address as a string ("" when the server gave none).

    ``settings.BOOTHSITE_TRUSTED_PROXIES`` (an int, default 0) is the number of proxies
    in front of the application that append to ``X-Forwarded-For``. With 0, or without
    the header, the answer is ``REMOTE_ADDR``; with N, it is ``addresses[-min(N, len)]``
    of the header's comma-separated list. The value is not parsed further: it is a
    key for counting, never shown, logged or stored by this module.
    """
    meta = request.META
    remote = str(meta.get("REMOTE_ADDR") or "")
    proxies = int(settings.BOOTHSITE_TRUSTED_PROXIES)
    forwarded = str(meta.get("HTTP_X_FORWARDED_FOR") or "")
    if proxies <= 0 or not forwarded:
        return remote
    addresses = [part.strip() for part in forwarded.split(",")]
    return addresses[-min(proxies, len(addresses))] or remote
