"""Idempotency keys of the booth API (RELIABILITY 10; DESIGN.md 5 "Idempotency").

The kiosk sends one ``Idempotency-Key`` per action and keeps it with the action in its
offline queue, so an upload whose answer was lost, or a share posted twice, reaches the
server again with the same key. ``begin`` records the key for the booth before the view
runs; ``finish`` stores the view's answer; a later request with the same key and the
same request gets that answer again (``replay``) and the view does not run a second
time: no second row, no second SMS.

The semantics follow pretix's ``X-Idempotency-Key`` (its ``test_idempotency.py``):

- a key is scoped to the booth: another booth with the same key gets its own result;
- while the first request runs, the same key is refused with 409 and ``Retry-After``;
- the same key with another route or another body is refused with 422;
- answers meant to be retried (409, 429 and every 5xx, e.g. storage down) are not
  stored: the key is released, and a retry with it runs the view again;
- a key is remembered for ``BOOTHSITE_IDEMPOTENCY_TTL_SECONDS`` (default 24 h); the
  booth's expired keys are deleted whenever it writes a new one.

All writes go through this module (it is the service layer of ``IdempotencyKey``);
``events.drf.BoothAPIView`` calls it for views that set ``idempotent = True``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from rest_framework.response import Response

from events.exceptions import IdempotencyKeyInUse, IdempotencyKeyInvalid, IdempotencyKeyReused
from events.models import Booth, IdempotencyKey

HEADER = "Idempotency-Key"
#: Longest key accepted, in characters (the column's size; a UUID is 36).
MAX_KEY_LENGTH = 255
#: A key still "running" after this many seconds belongs to a request that died (its
#: process was killed): a retry takes it over. Far longer than any booth request runs.
STALE_AFTER_SECONDS = 300
#: Seconds a client is asked to wait when the first request is still running.
IN_USE_RETRY_AFTER = 2
#: Answers that are meant to be retried, so never stored (pretix's rule, plus all 5xx).
RETRYABLE_STATUSES = frozenset({409, 429})

INVALID_MESSAGE = f"{HEADER} must be 1 to {MAX_KEY_LENGTH} visible ASCII characters."
IN_USE_MESSAGE = f"A request with this {HEADER} is still running; retry in a moment."
REUSED_MESSAGE = f"This {HEADER} was already used for a different request."


def request_hash(method: str, path: str, data: Any) -> str:
    """Return a keyed SHA-256 (64 hex digits) of a request's method, path and parsed body.

    ``data`` is DRF's ``request.data``: a dict from JSON, or a QueryDict of fields and
    uploaded files from multipart (files count by their content's SHA-256, so a re-sent
    form with a new multipart boundary hashes the same). Keyed with ``SECRET_KEY``
    (``salted_hmac``), because a body may hold a phone number and a bare hash of one is
    easy to reverse.
    """
    canonical = json.dumps(
        {"method": method, "path": path, "data": _canonical(data)},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return salted_hmac("boothsite.idempotency", canonical, algorithm="sha256").hexdigest()


def _canonical(data: Any) -> Any:
    if hasattr(data, "lists"):  # a QueryDict: every value of every field
        return {str(key): [_canonical(v) for v in values] for key, values in data.lists()}
    if isinstance(data, UploadedFile):
        digest = _file_sha256(data.chunks())
        data.seek(0)  # the view reads the file next
        return {"file_sha256": digest}
    return data


def _file_sha256(chunks: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def check_key(key: str) -> str:
    """Return ``key`` if it is 1 to 255 visible ASCII characters (0x21 to 0x7e).

    :raises IdempotencyKeyInvalid: (400) otherwise.
    """
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all("!" <= c <= "~" for c in key):
        raise IdempotencyKeyInvalid(INVALID_MESSAGE)
    return key


def begin(booth: Booth, key: str, *, route: str, fingerprint: str) -> tuple[IdempotencyKey, bool]:
    """Record ``key`` for ``booth`` before its view runs; return ``(record, created)``.

    ``created`` is True when this request owns the key now (a new key, an expired one or
    a stale one, see ``STALE_AFTER_SECONDS``): the caller runs the view, then calls
    ``finish``. False means the key already has an answer, which the caller sends
    again (``replay``). The record is committed at once, outside any transaction of
    the view, so a concurrent request with the same key sees it: on PostgreSQL the
    second INSERT waits for the first and then fails on the unique (booth, key).
    ``route`` names the endpoint (its URL name); ``fingerprint`` is ``request_hash``.

    Deletes the booth's keys older than ``BOOTHSITE_IDEMPOTENCY_TTL_SECONDS``.

    :raises IdempotencyKeyInvalid: (400) for a malformed key.
    :raises IdempotencyKeyReused: (422) when the key was used for another request.
    :raises IdempotencyKeyInUse: (409, ``Retry-After``) while the first request runs.
    """
    check_key(key)
    now = timezone.now()
    ttl = dt.timedelta(seconds=settings.BOOTHSITE_IDEMPOTENCY_TTL_SECONDS)
    IdempotencyKey.objects.filter(booth=booth, created_at__lt=now - ttl).delete()
    try:
        with transaction.atomic():
            record = IdempotencyKey.objects.create(
                booth=booth, key=key, route=route, request_hash=fingerprint, created_at=now
            )
    except IntegrityError:
        pass
    else:
        return record, True
    existing = IdempotencyKey.objects.filter(booth=booth, key=key).first()
    if existing is None:  # released by its first request a moment ago: retry
        raise IdempotencyKeyInUse(IN_USE_MESSAGE, retry_after=IN_USE_RETRY_AFTER)
    if existing.request_hash != fingerprint:
        raise IdempotencyKeyReused(REUSED_MESSAGE)
    if existing.response_status is not None:
        return existing, False
    if existing.created_at < now - dt.timedelta(seconds=STALE_AFTER_SECONDS) and _take_over(
        existing, now
    ):
        return existing, True
    raise IdempotencyKeyInUse(IN_USE_MESSAGE, retry_after=IN_USE_RETRY_AFTER)


def _take_over(record: IdempotencyKey, now: dt.datetime) -> bool:
    taken = IdempotencyKey.objects.filter(
        pk=record.pk, response_status__isnull=True, created_at=record.created_at
    ).update(created_at=now)
    record.created_at = now
    return taken == 1


def finish(record: IdempotencyKey, status: int, body: bytes) -> None:
    """Store the first answer (``status``, rendered JSON ``body``) for ``record``'s key.

    Answers meant to be retried (409, 429, any 5xx) are not stored: the key is released
    instead, so a retry with it runs the view again (RELIABILITY 57: a retry after a
    storage failure creates the capture once).
    """
    if status >= 500 or status in RETRYABLE_STATUSES:
        release(record)
        return
    IdempotencyKey.objects.filter(pk=record.pk, response_status__isnull=True).update(
        response_status=status, response_body=body.decode(), completed_at=timezone.now()
    )


def release(record: IdempotencyKey) -> None:
    """Forget ``record``'s key while it has no answer (its view raised or must be retried)."""
    IdempotencyKey.objects.filter(pk=record.pk, response_status__isnull=True).delete()


def replay(record: IdempotencyKey) -> Response:
    """Return the stored answer again: same status, same body, ``Idempotent-Replayed: true``.

    A DRF Response whose content is already set, so it is sent as stored, not rendered.
    """
    response = Response(status=record.response_status)
    response.content = record.response_body.encode()  # marks it rendered: sent as stored
    response["Content-Type"] = "application/json"
    response["Idempotent-Replayed"] = "true"
    return response
