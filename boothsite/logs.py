"""Keep phone numbers, email addresses, tokens and passcodes out of every log line.

RELIABILITY 64, 66, 76.

Two writers reach the logs. Python logging (Django, Celery, daphne's own loggers, ours)
passes ``RedactingFilter``, which ``settings.LOGGING`` puts on every handler. Daphne's
access log does not use logging at all: daphne's command line hands its
``AccessLogGenerator`` a stream (stdout, or the ``--access-log`` file) and writes each
request's raw target to it. ``install_access_log_redaction`` makes that class redact the
target first, so ``bin/run`` and any ``daphne boothsite.asgi:application`` log safe lines.

What is redacted, and why:

- every query-string value, and any name that is not a plain word: receipt callbacks
  carry ``msisdn=447400123456``, admin searches ``q=%2B447400123456``;
- the secret segment of capability paths: ``/s/<share token>/``, ``/g/<gallery
  token>/`` and the slideshow's socket ``/ws/gallery/<gallery token>/``,
  ``/compat/<booth token>/send-mms``, ``/hooks/sms/dlr/<callback token>/``,
  ``/invite/<invitation token>/``, allauth's ``/accounts/confirm-email/<key>/`` and
  ``/accounts/password/reset/key/<key>/``, and ``/media/<storage key>`` (a random key
  is itself the capability);
- anywhere in a message: booth API tokens (``bth_…``), organiser API tokens
  (``bsk_…``), pairing codes (``pair_…``), invitation tokens (``inv_…``), and runs of
  8 to 15 digits with or without ``+`` or ``%2B`` (MSISDN and E.164 numbers; E.164
  allows at most 15 digits, and no country code plus national number is shorter than 8);
  and email addresses (``name@example.com``, also URL-encoded ``name%40example.com``):
  guests' share emails (issue 14.5) and members' accounts.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote

REDACTED = "<redacted>"

#: Paths whose next segment (or, for media, the whole rest) is a secret.
_SECRET_PATHS = re.compile(
    r"^(?P<keep>/+(?:s|g|ws/+gallery|compat|hooks/+sms/+dlr|invite"
    r"|accounts/+confirm-email|accounts/+password/+reset/+key)/+)(?P<secret>[^/]+)"
    r"|^(?P<media>/+media/+)(?P<key>.+)$"
)
_TOKENS = re.compile(r"\b(?P<kind>bth|bsk|pair|inv)_[A-Za-z0-9_\-]{16,}")
_PHONES = re.compile(
    r"(?<![\w.\-])(?:\+|%2[Bb])?\d{8,15}(?![\w\-])"  # MSISDN, E.164, URL-encoded E.164
    r"|\+\d(?:[ \-]?\d){7,14}(?![\w\-])"  # +44 7400 123456
)
_EMAILS = re.compile(r"[\w.+\-]+(?:@|%40)[\w\-]+(?:\.[\w\-]+)+", re.ASCII | re.IGNORECASE)
_SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z_.\-\[\]]{0,31}$")
#: A path in free text: optional scheme and host, then "/" and no spaces or quotes.
_URL_IN_TEXT = re.compile(r"(?<![\w.\-/])(?P<origin>https?://[^\s/\"'<>]+)?(?P<path>/[^\s\"'<>]*)")


def redact_query(query: str) -> str:
    """Return ``query`` (no ``?``) with every value, and every unusual name, redacted.

    ``msisdn=447400123456&to=Boothsite`` becomes ``msisdn=<redacted>&to=<redacted>``.
    A name is kept only if it is a plain word (letters, ``_ . - [ ]``, up to 32).
    """
    parts = []
    for item in query.split("&"):
        name, equals, value = item.partition("=")
        safe = name if _SAFE_NAME.match(unquote(name)) else REDACTED
        parts.append(f"{safe}={REDACTED}" if equals and value else f"{safe}{equals}")
    return "&".join(parts)


def redact_path(target: str) -> str:
    """Return an HTTP request target (path and query, as sent) that is safe to log.

    ``/hooks/sms/dlr/Zx…/?msisdn=447400123456`` becomes
    ``/hooks/sms/dlr/<redacted>/?msisdn=<redacted>``. See the module docstring for the
    rules. Never raises; a target that is not a path still has tokens and numbers removed.
    """
    path, question, query = target.partition("?")
    path = _SECRET_PATHS.sub(
        lambda match: (
            f"{match['keep']}{REDACTED}" if match["keep"] else f"{match['media']}{REDACTED}"
        ),
        path,
    )
    path = _redact_secrets(path)
    return f"{path}?{redact_query(query)}" if question else path


def _redact_secrets(text: str) -> str:
    text = _TOKENS.sub(lambda match: f"{match['kind']}_{REDACTED}", text)
    text = _EMAILS.sub(REDACTED, text)
    return _PHONES.sub(REDACTED, text)


def redact_text(text: str) -> str:
    """Return a free-text log message with paths, tokens and phone numbers redacted.

    Each path in the text (``Not Found: /s/…/``, ``GET /g/…/?page=2``, a full
    ``https://host/s/…/`` link) goes through ``redact_path``; then tokens and numbers
    are removed wherever they are.
    """

    def one_url(match: re.Match[str]) -> str:
        return (match["origin"] or "") + redact_path(match["path"])

    return _redact_secrets(_URL_IN_TEXT.sub(one_url, text))


class RedactingFilter(logging.Filter):
    """A logging filter that redacts a record's message, traceback and stack in place.

    Put it on handlers, not loggers: a logger's filters never see records that its
    children propagate. It never drops a record and never raises (a record it cannot
    format passes unchanged, for the handler to report as usual).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # the handler reports bad format arguments itself
            return True
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


def install_access_log_redaction() -> None:
    """Make daphne's ``AccessLogGenerator`` log redacted request targets (idempotent).

    Daphne's command line builds its access logger after it imports the application
    (and so these settings), from the class in ``daphne.access``; patching the class
    reaches that instance whatever name it was imported under. Django's ``runserver``
    (daphne's) logs through ``django.channels.server`` instead, which ``RedactingFilter``
    covers.
    """
    from daphne.access import AccessLogGenerator  # type: ignore[import-untyped]

    if getattr(AccessLogGenerator, "boothsite_redacting", False):
        return
    original = AccessLogGenerator.__call__

    def redacting_call(self: Any, protocol: str, action: str, details: dict[str, Any]) -> None:
        path = details.get("path")
        if isinstance(path, bytes):
            path = path.decode("latin-1")
        if isinstance(path, str):
            details = {**details, "path": redact_path(path)}
        original(self, protocol, action, details)

    AccessLogGenerator.__call__ = redacting_call
    AccessLogGenerator.boothsite_redacting = True
