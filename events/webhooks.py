"""Signed webhook deliveries per the Standard Webhooks spec (issue 15.3).

An organiser registers endpoints (``WebhookEndpoint``) for some of ``EVENT_TYPES``.
``emit`` records, once the caller's transaction commits, one ``WebhookDelivery`` per
enabled endpoint that listens, and queues ``events.tasks.deliver_webhook`` for it.

Each task run makes ONE attempt (``attempt_delivery``): it claims the attempt with a
conditional UPDATE (so two workers never send the same attempt), POSTs the JSON body
with the ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` headers (v1,
HMAC-SHA256, signed by the ``standardwebhooks`` package), and records the status code
and time in ms (never the response body). A 2xx is a success; anything else is retried
with exponential backoff (``RETRY_DELAYS``) by the beat sweeper
(``events.tasks.sweep_webhooks``) until 24 h after the delivery was created, and then
the delivery gives up. ``BOOTHSITE_WEBHOOK_MAX_FAILURES`` failed attempts in a row, or
a delivery that gives up, disable the endpoint and email its organiser's owners once.

SSRF: a URL's host is resolved and refused when any address is private, loopback,
link-local, multicast, reserved or unspecified (IPv4 and IPv6, IPv4-mapped included),
at registration and again at send time, where the connection goes to the address that
was checked (no second lookup), unless ``BOOTHSITE_WEBHOOK_ALLOW_PRIVATE``. Redirects
are never followed.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from events.models import Membership, WebhookDelivery, WebhookEndpoint
from events.roles import Role

logger = logging.getLogger(__name__)

#: The event types an endpoint may subscribe to.
EVENT_TYPES = ("capture.ready", "session.finished", "strip.ready", "sms.status")
#: Longest URL accepted (the model's max_length).
MAX_URL_LENGTH = 2000
SECRET_PREFIX = "whsec_"  # noqa: S105  (a prefix, not a secret)
#: Random bytes in a new secret (base64 after ``whsec_``).
SECRET_BYTES = 32
#: Connect timeout and total time of one attempt, in seconds.
CONNECT_TIMEOUT = 5.0
TOTAL_TIMEOUT = 10.0
#: How long a claimed attempt is reserved before the sweeper may try it again (a worker
#: that died mid-send), in seconds. Well above TOTAL_TIMEOUT.
CLAIM_SECONDS = 60
#: Delay before attempt n+1 after n failed attempts (the last one repeats), seconds.
RETRY_DELAYS = (30, 120, 600, 1800, 3600, 7200, 14400)
#: Deliveries are retried for this long after they were created.
RETRY_WINDOW = timedelta(hours=24)
USER_AGENT = "Boothsite-Webhooks/1.0"
#: Rows a sweep takes at most.
SWEEP_BATCH = 100


class UnsafeTarget(ValueError):
    """A webhook URL whose host is refused (SSRF) or cannot be resolved."""


@dataclass(frozen=True)
class AttemptResult:
    """The outcome of one HTTP attempt: ``status`` (None: no response), ``ms``, ``error``."""

    status: int | None
    ms: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        """Whether the receiver answered 2xx."""
        return self.status is not None and 200 <= self.status < 300


# -- SSRF ---------------------------------------------------------------------------


def is_public_address(address: str) -> bool:
    """Whether an IPv4/IPv6 address (text) may be a webhook target.

    False for private, loopback, link-local, multicast, reserved, unspecified and
    other non-global addresses; an IPv4-mapped IPv6 address is judged as its IPv4.
    """
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
        address.split("%", 1)[0]
    )
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            ip = mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def resolve_host(host: str, port: int) -> list[str]:
    """Return the addresses ``host`` resolves to (text, in resolver order).

    :raises UnsafeTarget: when it does not resolve.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise UnsafeTarget(f"The host {host} could not be resolved.") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_target(host: str, port: int) -> list[str]:
    """Resolve ``host`` and return its addresses if every one is allowed.

    :raises UnsafeTarget: when it does not resolve, or any address is not public and
        ``BOOTHSITE_WEBHOOK_ALLOW_PRIVATE`` is off.
    """
    addresses = resolve_host(host, port)
    if not settings.BOOTHSITE_WEBHOOK_ALLOW_PRIVATE:
        for address in addresses:
            if not is_public_address(address):
                raise UnsafeTarget(
                    "Webhook URLs must point to a public address, not a private, "
                    "loopback or reserved one."
                )
    return addresses


def _split_url(url: str) -> tuple[str, str, int, str]:
    """``(scheme, host, port, path?query)`` of an http(s) URL; ValueError if invalid."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("Enter an http:// or https:// URL.")
    if parts.username or parts.password:
        raise ValueError("Webhook URLs may not contain a user name or password.")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, port, path


def validate_url(url: str) -> str:
    """Return ``url`` stripped if it may be registered.

    :raises ValidationError: ``{"url": [...]}`` for a non-http(s) or over-long URL, one
        with credentials, or a host that resolves to a refused address. A host that
        does not resolve now is accepted (it is checked again at each send).
    """
    url = (url or "").strip()
    if not url:
        raise ValidationError({"url": "Enter the URL to deliver to."})
    if len(url) > MAX_URL_LENGTH:
        raise ValidationError({"url": f"The URL is longer than {MAX_URL_LENGTH} characters."})
    try:
        _scheme, host, port, _path = _split_url(url)
    except ValueError as exc:
        raise ValidationError({"url": str(exc) or "Enter a valid URL."}) from exc
    try:
        addresses = resolve_host(host, port)
    except UnsafeTarget:
        return url
    if not settings.BOOTHSITE_WEBHOOK_ALLOW_PRIVATE and not all(
        is_public_address(a) for a in addresses
    ):
        raise ValidationError(
            {
                "url": "Webhook URLs must point to a public address, not a private, "
                "loopback or reserved one."
            }
        )
    return url


def validate_event_types(event_types: list[str] | tuple[str, ...] | None) -> list[str]:
    """Return the types deduplicated in ``EVENT_TYPES`` order.

    :raises ValidationError: ``{"event_types": [...]}`` when empty or unknown.
    """
    chosen = list(event_types or [])
    unknown = [t for t in chosen if t not in EVENT_TYPES]
    if unknown:
        raise ValidationError(
            {"event_types": f"Unknown event type: {', '.join(map(str, unknown))}."}
        )
    if not chosen:
        raise ValidationError({"event_types": "Choose at least one event type."})
    return [t for t in EVENT_TYPES if t in chosen]


def new_secret() -> str:
    """Return a new signing secret: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


# -- endpoints ----------------------------------------------------------------------


def create_endpoint(
    organiser: Any,
    *,
    url: str,
    event_types: list[str],
    description: str = "",
    user: Any = None,
) -> WebhookEndpoint:
    """Register an endpoint of ``organiser`` for ``event_types``; return it.

    Its ``secret`` is new (show it once). :raises ValidationError: with field
    messages (``url``, ``event_types``, ``description``).
    """
    errors: dict[str, list[str]] = {}
    clean_url = ""
    types: list[str] = []
    try:
        clean_url = validate_url(url)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        types = validate_event_types(event_types)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    description = (description or "").strip()
    if len(description) > 200:
        errors["description"] = ["The description is longer than 200 characters."]
    if errors:
        raise ValidationError(errors)
    return WebhookEndpoint.objects.create(
        organiser=organiser,
        url=clean_url,
        event_types=types,
        description=description,
        secret=new_secret(),
        created_by=user if user is not None and user.is_authenticated else None,
    )


def update_endpoint(
    endpoint: WebhookEndpoint,
    *,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> WebhookEndpoint:
    """Change the given fields (None: unchanged); return the endpoint.

    ``enabled=False`` disables it (reason "Disabled by an owner."); ``enabled=True``
    re-enables it and resets its failure count. :raises ValidationError: as
    ``create_endpoint``.
    """
    errors: dict[str, list[str]] = {}
    fields: list[str] = []
    if url is not None:
        try:
            endpoint.url = validate_url(url)
            fields.append("url")
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if event_types is not None:
        try:
            endpoint.event_types = validate_event_types(event_types)
            fields.append("event_types")
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if description is not None:
        description = description.strip()
        if len(description) > 200:
            errors["description"] = ["The description is longer than 200 characters."]
        endpoint.description = description
        fields.append("description")
    if errors:
        endpoint.refresh_from_db()
        raise ValidationError(errors)
    if enabled is True and endpoint.disabled_at is not None:
        endpoint.disabled_at = None
        endpoint.disabled_reason = ""
        endpoint.consecutive_failures = 0
        fields += ["disabled_at", "disabled_reason", "consecutive_failures"]
    elif enabled is False and endpoint.disabled_at is None:
        endpoint.disabled_at = timezone.now()
        endpoint.disabled_reason = "Disabled by an owner."
        fields += ["disabled_at", "disabled_reason"]
    if fields:
        endpoint.save(update_fields=fields)
    return endpoint


def delete_endpoint(endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint and its deliveries log."""
    endpoint.delete()


def rotate_secret(endpoint: WebhookEndpoint) -> str:
    """Give the endpoint a new secret and return it (the old one stops at once)."""
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret"])
    return endpoint.secret


# -- emitting -----------------------------------------------------------------------


def new_message_id() -> str:
    """Return a new Standard Webhooks message id: ``msg_`` + 32 hex digits."""
    return f"msg_{uuid.uuid4().hex}"


def build_payload(event_type: str, data: dict[str, Any], when: datetime | None = None) -> Any:
    """Return the body ``{"type", "timestamp" (ISO 8601 UTC), "data"}``, JSON-safe."""
    stamp = (when or timezone.now()).astimezone(UTC).isoformat().replace("+00:00", "Z")
    body = {"type": event_type, "timestamp": stamp, "data": data}
    return json.loads(json.dumps(body, cls=DjangoJSONEncoder))


def emit(
    organiser_id: int,
    event_type: str,
    data: dict[str, Any] | Callable[[], dict[str, Any] | None],
) -> None:
    """Send ``event_type`` with ``data`` to the organiser's endpoints that listen.

    On commit of the current transaction (at once outside one; nothing on rollback):
    one query finds the enabled endpoints; for each subscribed one a delivery is
    recorded and its task queued. Never raises into the caller once committed (a
    failure is logged). ``data`` holds public ids and statuses, never personal data;
    it may be a callable returning the dict (or None: nothing to send after all),
    called only when an endpoint listens (so the common case, no endpoint, costs one
    query and no look-ups for the payload).

    :raises ValueError: at once for a type not in ``EVENT_TYPES`` (a bug).
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown webhook event type {event_type!r}.")
    when = timezone.now()

    def record() -> None:
        try:
            _record_deliveries(organiser_id, event_type, data, when)
        except Exception:
            logger.exception("Webhook %s for organiser %s not recorded.", event_type, organiser_id)

    transaction.on_commit(record, robust=True)


def _record_deliveries(
    organiser_id: int,
    event_type: str,
    data: dict[str, Any] | Callable[[], dict[str, Any] | None],
    when: datetime,
) -> list[WebhookDelivery]:
    endpoints = [
        e
        for e in WebhookEndpoint.objects.enabled().filter(organiser_id=organiser_id)
        if event_type in (e.event_types or [])
    ]
    if not endpoints:
        return []
    body = data() if callable(data) else data
    if body is None:
        return []
    payload = build_payload(event_type, body, when)
    return [queue_delivery(endpoint, event_type, payload) for endpoint in endpoints]


def queue_delivery(
    endpoint: WebhookEndpoint, event_type: str, payload: dict[str, Any]
) -> WebhookDelivery:
    """Record a pending delivery of ``payload`` to ``endpoint`` and queue its first try.

    The attempt is claimed for ``CLAIM_SECONDS`` so the sweeper leaves it to the task;
    if the broker does not take the task the sweeper sends it after that.
    """
    from boothsite.celery import enqueue_on_commit
    from events import tasks  # noqa: F401  (registers the task; events.apps does not yet)

    now = timezone.now()
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        organiser_id=endpoint.organiser_id,
        message_id=new_message_id(),
        event_type=event_type,
        payload=payload,
        next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS),
    )
    enqueue_on_commit("events.tasks.deliver_webhook", delivery.pk, 1)
    return delivery


# -- the four events (called by captures.services and messaging.services) ------------
#
# These take the rows duck-typed: events never imports captures or messaging. Payloads
# carry public ids, the event's slug, statuses and times; never media keys, phone
# numbers, email addresses or message bodies.


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def _session_fields(session: Any) -> dict[str, Any]:
    event = session.event
    return {
        "session": str(session.public_id),
        "event": {"id": str(event.public_id), "slug": event.slug},
        "booth": str(session.booth.public_id),
    }


def capture_ready(capture: Any) -> None:
    """Emit ``capture.ready`` for a capture whose variants are all rendered.

    Data: ``capture`` (public id), ``session``, ``event`` (``id``, ``slug``),
    ``booth``, ``status``, ``taken_at``, ``filters`` (the rendered variants' names).
    """

    def data() -> dict[str, Any]:
        return {
            "capture": str(capture.public_id),
            **_session_fields(capture.session),
            "status": "ready",
            "taken_at": _iso(capture.taken_at),
            "filters": sorted(capture.variants.values_list("filter", flat=True)),
        }

    emit(capture.event.organiser_id, "capture.ready", data)


def session_finished(session: Any) -> None:
    """Emit ``session.finished`` when a session is closed.

    Data: ``session``, ``event``, ``booth``, ``status``, ``started_at``,
    ``finished_at``, ``captures`` (visible ones), ``share_url``.
    """

    def data() -> dict[str, Any]:
        return {
            **_session_fields(session),
            "status": "finished",
            "started_at": _iso(session.started_at),
            "finished_at": _iso(session.finished_at),
            "captures": session.captures.filter(hidden=False).count(),
            "share_url": session.share_url(),
        }

    emit(session.event.organiser_id, "session.finished", data)


def strip_ready(strip: Any) -> None:
    """Emit ``strip.ready`` when a strip is rendered.

    Data: ``strip``, ``session``, ``event``, ``booth``, ``layout``, ``filter``,
    ``status``, ``width``, ``height``, ``share_url`` (the session's share page).
    """

    def data() -> dict[str, Any]:
        session = strip.session
        return {
            "strip": str(strip.public_id),
            **_session_fields(session),
            "layout": strip.layout,
            "filter": strip.filter,
            "status": "ready",
            "width": strip.width,
            "height": strip.height,
            "share_url": session.share_url(),
        }

    emit(strip.event.organiser_id, "strip.ready", data)


#: SMS statuses not worth a message: still on the way out.
_SMS_QUIET_STATUSES = ("queued", "sending")


def sms_status(sms: Any) -> None:
    """Emit ``sms.status`` when a send result or a delivery receipt changed an SMS.

    The status is read on commit (the row as committed). Nothing for a message back
    in the queue. Data: ``sms`` (public id), ``status``, ``error_code``, ``event``,
    ``session``, ``created_at``, ``submitted_at``, ``final_at``; never the number or
    the text.
    """

    def data() -> dict[str, Any] | None:
        row = type(sms).objects.select_related("event", "session").filter(pk=sms.pk).first()
        if row is None or row.status in _SMS_QUIET_STATUSES:
            return None
        return {
            "sms": str(row.public_id),
            "status": row.status,
            "error_code": row.error_code,
            "event": {"id": str(row.event.public_id), "slug": row.event.slug},
            "session": str(row.session.public_id) if row.session_id else None,
            "created_at": _iso(row.created_at),
            "submitted_at": _iso(getattr(row, "submitted_at", None)),
            "final_at": _iso(getattr(row, "final_at", None)),
        }

    emit(sms.organiser_id, "sms.status", data)


def send_test_event(endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a ``webhook.test`` delivery to ``endpoint`` (enabled or not); return it."""
    payload = build_payload(
        "webhook.test",
        {"endpoint": str(endpoint.public_id), "message": "A test event from Boothsite."},
    )
    return queue_delivery(endpoint, "webhook.test", payload)


# -- sending ------------------------------------------------------------------------


def retry_delay(failed_attempts: int) -> timedelta:
    """Return the wait after ``failed_attempts`` (>= 1) failures: RETRY_DELAYS, capped."""
    index = min(max(failed_attempts, 1), len(RETRY_DELAYS)) - 1
    return timedelta(seconds=RETRY_DELAYS[index])


def sign(secret: str, message_id: str, when: datetime, body: str) -> dict[str, str]:
    """Return the request headers of one attempt (Standard Webhooks v1 signature)."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id=message_id, timestamp=when, data=body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to a checked address, whatever the Host header says."""

    def __init__(self, host: str, port: int, address: str) -> None:
        super().__init__(host, port, timeout=CONNECT_TIMEOUT)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), CONNECT_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def tls_context() -> ssl.SSLContext:
    """Return the TLS context of HTTPS deliveries: the system's CAs, hostname checked."""
    return ssl.create_default_context()


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to a checked address, verifying the certificate of ``host``."""

    def __init__(self, host: str, port: int, address: str) -> None:
        super().__init__(host, port, timeout=CONNECT_TIMEOUT, context=tls_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), CONNECT_TIMEOUT)
        self.sock = sock  # the watchdog can cut a handshake that drips
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(url: str, body: str, headers: dict[str, str]) -> AttemptResult:
    """POST ``body`` to ``url`` once; never raises, never follows a redirect.

    The host is checked (``check_target``) and the connection made to the first
    checked address. Connect timeout ``CONNECT_TIMEOUT``, whole attempt at most
    ``TOTAL_TIMEOUT`` seconds. The response body is not read.
    """
    started = time.monotonic()
    try:
        scheme, host, port, path = _split_url(url)
        address = check_target(host, port)[0]
    except (ValueError, UnsafeTarget) as exc:
        return AttemptResult(None, None, str(exc)[:200])
    cls = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    conn = cls(host, port, address)
    aborted = threading.Event()
    watchdog = threading.Timer(TOTAL_TIMEOUT, _abort, args=(conn, aborted))
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.connect()
        conn.sock.settimeout(TOTAL_TIMEOUT)
        conn.request("POST", path, body=body.encode(), headers=headers)
        response = conn.getresponse()
        status = response.status
    except TimeoutError:
        return AttemptResult(None, _elapsed(started), "Timed out.")
    except (OSError, http.client.HTTPException) as exc:
        if aborted.is_set():
            return AttemptResult(None, _elapsed(started), "Timed out.")
        if isinstance(exc, ssl.SSLError):
            return AttemptResult(None, _elapsed(started), f"TLS error: {type(exc).__name__}.")
        return AttemptResult(None, _elapsed(started), f"Connection failed: {type(exc).__name__}.")
    finally:
        watchdog.cancel()
        conn.close()
    if aborted.is_set():  # cut off mid-answer: the headers read may be incomplete
        return AttemptResult(None, _elapsed(started), "Timed out.")
    return AttemptResult(
        status, _elapsed(started), "" if 200 <= status < 300 else f"HTTP {status}."
    )


def _abort(conn: http.client.HTTPConnection, aborted: threading.Event) -> None:
    aborted.set()
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _elapsed(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def attempt_delivery(delivery_id: int, attempt: int) -> WebhookDelivery | None:
    """Make attempt number ``attempt`` (1-based) of a delivery, if it is still due.

    The attempt is claimed with a conditional UPDATE (``attempts`` was ``attempt-1``
    and the row pending or failed): a second worker with the same message does
    nothing and None is returned. A delivery to a disabled endpoint gives up. The
    result is recorded (status, ms, error, next attempt or gave_up) and the endpoint's
    failure count updated; never raises for an HTTP failure.
    """
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id,
        attempts=attempt - 1,
        status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.FAILED],
    ).update(
        attempts=attempt,
        last_attempt_at=now,
        next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS),
    )
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint", "endpoint__organiser").get(
        pk=delivery_id
    )
    endpoint = delivery.endpoint
    if endpoint.disabled_at is not None and delivery.event_type != "webhook.test":
        delivery.status = WebhookDelivery.Status.GAVE_UP
        delivery.error = "Endpoint disabled."
        delivery.next_attempt_at = None
        delivery.save(update_fields=["status", "error", "next_attempt_at"])
        return delivery
    body = json.dumps(delivery.payload, separators=(",", ":"))
    result = post(endpoint.url, body, sign(endpoint.secret, delivery.message_id, now, body))
    delivery.response_status = result.status
    delivery.response_ms = result.ms
    delivery.error = result.error[:200]
    done = timezone.now()
    if result.ok:
        delivery.status = WebhookDelivery.Status.SUCCEEDED
        delivery.delivered_at = done
        delivery.next_attempt_at = None
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0)
    else:
        upcoming = done + retry_delay(attempt)
        if upcoming > delivery.created_at + RETRY_WINDOW:
            delivery.status = WebhookDelivery.Status.GAVE_UP
            delivery.next_attempt_at = None
        else:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.next_attempt_at = upcoming
    delivery.save(
        update_fields=[
            "status",
            "response_status",
            "response_ms",
            "error",
            "delivered_at",
            "next_attempt_at",
        ]
    )
    if not result.ok and delivery.event_type != "webhook.test":
        _count_failure(endpoint, gave_up=delivery.status == WebhookDelivery.Status.GAVE_UP)
    return delivery


def _count_failure(endpoint: WebhookEndpoint, *, gave_up: bool) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    endpoint.refresh_from_db(fields=["consecutive_failures", "disabled_at"])
    limit = settings.BOOTHSITE_WEBHOOK_MAX_FAILURES
    if gave_up:
        disable_endpoint(endpoint, "Deliveries failed for 24 hours.")
    elif endpoint.consecutive_failures >= limit:
        disable_endpoint(endpoint, f"{endpoint.consecutive_failures} deliveries failed in a row.")


def disable_endpoint(endpoint: WebhookEndpoint, reason: str) -> bool:
    """Disable an enabled endpoint after failures and email its owners; return whether.

    The UPDATE only touches an enabled endpoint, so the owners are emailed once
    however many workers fail at the same time. A mail error is logged, not raised.
    """
    now = timezone.now()
    changed = WebhookEndpoint.objects.filter(pk=endpoint.pk, disabled_at__isnull=True).update(
        disabled_at=now, disabled_reason=reason[:200]
    )
    if not changed:
        return False
    endpoint.disabled_at = now
    endpoint.disabled_reason = reason[:200]
    try:
        email_owners_disabled(endpoint)
    except Exception:
        logger.exception("Could not email the owners about disabled webhook %s.", endpoint.pk)
    return True


def email_owners_disabled(endpoint: WebhookEndpoint) -> int:
    """Email the owners of the endpoint's organiser that it was disabled; return count.

    Text: ``templates/events/email/webhook_disabled_subject.txt`` and ``…_message.txt``.
    Raises what the mail backend raises.
    """
    organiser = endpoint.organiser
    emails = sorted(
        {
            m.user.email
            for m in Membership.objects.filter(organiser=organiser, role=Role.OWNER).select_related(
                "user"
            )
            if m.user.email
        }
    )
    if not emails:
        return 0
    link = (
        f"{settings.SITE_URL}{reverse('events:webhook', args=[organiser.slug, endpoint.public_id])}"
    )
    context = {"endpoint": endpoint, "organiser": organiser, "url": link}
    subject = render_to_string("events/email/webhook_disabled_subject.txt", context)
    body = render_to_string("events/email/webhook_disabled_message.txt", context)
    return send_mail(
        settings.EMAIL_SUBJECT_PREFIX + " ".join(subject.split()),
        body,
        settings.DEFAULT_FROM_EMAIL,
        emails,
    )


def claim_due(limit: int = SWEEP_BATCH) -> list[tuple[int, int]]:
    """Claim due deliveries for the sweeper; return ``[(delivery id, attempt number)]``.

    Due: pending or failed with ``next_attempt_at`` passed. Rows are locked with
    SELECT … FOR UPDATE SKIP LOCKED (where the database has it) and their
    ``next_attempt_at`` pushed ``CLAIM_SECONDS`` ahead, so two sweepers never queue
    the same attempt; the task's own claim settles any remaining race.
    """
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(
                status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.FAILED],
                next_attempt_at__lte=now,
            )
            .order_by("next_attempt_at")
            .values_list("pk", "attempts")[:limit]
        )
        if rows:
            WebhookDelivery.objects.filter(pk__in=[pk for pk, _ in rows]).update(
                next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS)
            )
    return [(pk, attempts + 1) for pk, attempts in rows]
