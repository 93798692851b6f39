"""Signed webhook deliveries (issue 15.3) to a real HTTP receiver on 127.0.0.1.

Every delivery the receiver gets is checked with the ``standardwebhooks`` package's
own verifier. Retries are driven by moving the clock (time_machine) and running the
beat sweeper, as beat would.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from events import tasks, webhooks
from events.models import WebhookDelivery, WebhookEndpoint
from events.roles import Role
from tests import factories


@dataclass
class Receiver:
    """A local HTTP server that records each POST and answers from ``statuses``."""

    url: str
    statuses: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def verified(self, secret: str) -> list[dict[str, object]]:
        """Every received body, verified with standardwebhooks (raises if one fails)."""
        return [Webhook(secret).verify(body, headers) for headers, body in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            state.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/boothsite?x=1"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def allow_private(settings):
    settings.BOOTHSITE_WEBHOOK_ALLOW_PRIVATE = True
    return settings


@pytest.fixture
def owner_email(tenant_a):
    tenant_a.owner.email = "owner-alpha@example.com"
    tenant_a.owner.save()
    return tenant_a.owner.email


def endpoint_for(tenant, url: str, types: list[str] | None = None) -> WebhookEndpoint:
    return webhooks.create_endpoint(
        tenant.organiser,
        url=url,
        event_types=types or list(webhooks.EVENT_TYPES),
        user=tenant.owner,
    )


def emit(
    django_capture_on_commit_callbacks, organiser_id: int, event_type: str, data: dict[str, Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.emit(organiser_id, event_type, data)


# -- the done-when: a delivery passes standardwebhooks' own verifier --------------------


def test_a_delivery_passes_the_standardwebhooks_verifier(
    allow_private, receiver, tenant_a, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(tenant_a, receiver.url)
    assert endpoint.secret.startswith("whsec_")
    data = {"capture": "5b0c…", "status": "ready"}
    emit(django_capture_on_commit_callbacks, tenant_a.organiser.pk, "capture.ready", data)

    [payload] = receiver.verified(endpoint.secret)
    assert payload["type"] == "capture.ready"
    assert payload["data"] == data
    assert str(payload["timestamp"]).endswith("Z")
    headers, _body = receiver.received[0]
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"].startswith("Boothsite-Webhooks/")
    delivery = WebhookDelivery.objects.get()
    assert headers["webhook-id"] == delivery.message_id
    assert delivery.message_id.startswith("msg_")
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert (delivery.attempts, delivery.response_status) == (1, 200)
    assert delivery.response_ms is not None
    assert delivery.delivered_at is not None
    assert delivery.next_attempt_at is None


def test_a_wrong_secret_fails_the_verifier(
    allow_private, receiver, tenant_a, django_capture_on_commit_callbacks
):
    endpoint_for(tenant_a, receiver.url)
    emit(django_capture_on_commit_callbacks, tenant_a.organiser.pk, "strip.ready", {"a": 1})
    from standardwebhooks.webhooks import WebhookVerificationError

    with pytest.raises(WebhookVerificationError):
        receiver.verified(webhooks.new_secret())


def test_only_subscribed_enabled_endpoints_of_the_organiser_get_a_message(
    allow_private, receiver, tenant_a, tenant_b, django_capture_on_commit_callbacks
):
    wanted = endpoint_for(tenant_a, receiver.url, ["strip.ready"])
    endpoint_for(tenant_a, receiver.url, ["sms.status"])
    webhooks.update_endpoint(endpoint_for(tenant_a, receiver.url, ["strip.ready"]), enabled=False)
    endpoint_for(tenant_b, receiver.url, ["strip.ready"])
    emit(django_capture_on_commit_callbacks, tenant_a.organiser.pk, "strip.ready", {"s": 1})
    assert len(receiver.received) == 1
    assert list(WebhookDelivery.objects.values_list("endpoint", flat=True)) == [wanted.pk]


def test_nothing_is_sent_when_the_transaction_rolls_back(allow_private, receiver, tenant_a):
    from django.db import transaction

    endpoint_for(tenant_a, receiver.url)

    def emit_then_fail() -> None:
        with transaction.atomic():
            webhooks.emit(tenant_a.organiser.pk, "capture.ready", {})
            raise RuntimeError

    with pytest.raises(RuntimeError):
        emit_then_fail()
    assert not WebhookDelivery.objects.exists()


def test_an_unknown_event_type_is_a_bug():
    with pytest.raises(ValueError, match="Unknown webhook event type"):
        webhooks.emit(1, "capture.deleted", {})


# -- the hot path -----------------------------------------------------------------------


def test_emit_costs_one_query_when_no_endpoint_listens(
    tenant_a, django_assert_num_queries, django_capture_on_commit_callbacks
):
    factories.make_organiser()
    endpoint_for(tenant_a, "https://93.184.215.14/hook", ["sms.status"])  # another type

    def expensive() -> dict[str, object]:
        raise AssertionError("payload built with no endpoint listening")

    with django_assert_num_queries(1), django_capture_on_commit_callbacks(execute=True):
        webhooks.emit(tenant_a.organiser.pk, "capture.ready", expensive)
    assert not WebhookDelivery.objects.exists()


# -- retries, giving up, disabling ------------------------------------------------------


def test_a_failed_delivery_is_retried_with_backoff_by_the_sweeper(
    allow_private, receiver, tenant_a, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(tenant_a, receiver.url)
    receiver.statuses = [500]
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        emit(django_capture_on_commit_callbacks, tenant_a.organiser.pk, "capture.ready", {"n": 1})
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert (delivery.attempts, delivery.response_status) == (1, 500)
    assert delivery.error == "HTTP 500."
    assert delivery.next_attempt_at == start + dt.timedelta(seconds=webhooks.RETRY_DELAYS[0])
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 1

    with time_machine.travel(start + dt.timedelta(seconds=10), tick=False):
        tasks.sweep_webhooks()  # not due yet
    assert len(receiver.received) == 1

    with time_machine.travel(delivery.next_attempt_at + dt.timedelta(seconds=1), tick=False):
        tasks.sweep_webhooks()
        payloads = receiver.verified(endpoint.secret)
    assert len(payloads) == 2
    assert payloads[0] == payloads[1]
    ids = {headers["webhook-id"] for headers, _ in receiver.received}
    assert ids == {delivery.message_id}  # the same id on every retry
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert (delivery.attempts, delivery.response_status) == (2, 200)
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0


def test_backoff_grows_and_is_capped():
    delays = [webhooks.retry_delay(n).total_seconds() for n in range(1, 12)]
    assert delays[:4] == [30, 120, 600, 1800]
    assert delays == sorted(delays)
    assert max(delays) == webhooks.RETRY_DELAYS[-1]


def test_a_delivery_gives_up_after_24_hours_and_the_endpoint_is_disabled(
    allow_private, receiver, tenant_a, owner_email, django_capture_on_commit_callbacks
):
    allow_private.BOOTHSITE_WEBHOOK_MAX_FAILURES = 1000
    endpoint = endpoint_for(tenant_a, receiver.url)
    receiver.statuses = [503] * 100
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        emit(django_capture_on_commit_callbacks, tenant_a.organiser.pk, "capture.ready", {})
    delivery = WebhookDelivery.objects.get()
    sweeps = 0
    while delivery.status == WebhookDelivery.Status.FAILED:
        assert delivery.next_attempt_at is not None
        assert delivery.next_attempt_at <= start + webhooks.RETRY_WINDOW
        with time_machine.travel(delivery.next_attempt_at, tick=False):
            tasks.sweep_webhooks()
        delivery.refresh_from_db()
        sweeps += 1
        assert sweeps < 50
    assert delivery.status == WebhookDelivery.Status.GAVE_UP
    assert delivery.next_attempt_at is None
    assert delivery.attempts == len(receiver.received) == sweeps + 1
    assert delivery.last_attempt_at is not None
    assert delivery.last_attempt_at <= start + webhooks.RETRY_WINDOW
    assert delivery.last_attempt_at > start + dt.timedelta(hours=18)
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is not None
    assert "24 hours" in endpoint.disabled_reason
    assert [m.to for m in mail.outbox] == [[owner_email]]
    assert endpoint.url in mail.outbox[0].body

    with time_machine.travel(start + dt.timedelta(days=2), tick=False):
        tasks.sweep_webhooks()
    assert len(receiver.received) == sweeps + 1


def test_repeated_failures_disable_the_endpoint_and_email_the_owners_once(
    allow_private, receiver, tenant_a, owner_email, django_capture_on_commit_callbacks
):
    allow_private.BOOTHSITE_WEBHOOK_MAX_FAILURES = 3
    factories.make_member(tenant_a.organiser, Role.MANAGER, username="mgr")
    endpoint = endpoint_for(tenant_a, receiver.url)
    receiver.statuses = [500] * 10
    for n in range(5):
        emit(django_capture_on_commit_callbacks, tenant_a.organiser.pk, "capture.ready", {"n": n})
    assert len(receiver.received) == 3  # the endpoint was disabled after the third failure
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is not None
    assert endpoint.disabled_reason == "3 deliveries failed in a row."
    assert [m.to for m in mail.outbox] == [[owner_email]]  # owners only, once
    assert "Webhook disabled" in mail.outbox[0].subject

    # Retries of the deliveries left give up rather than send to a disabled endpoint.
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1)):
        tasks.sweep_webhooks()
    assert len(receiver.received) == 3
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {
        WebhookDelivery.Status.GAVE_UP
    }

    webhooks.update_endpoint(endpoint, enabled=True)
    enabled = WebhookEndpoint.objects.get()
    assert (enabled.disabled_at, enabled.consecutive_failures) == (None, 0)
    emit(django_capture_on_commit_callbacks, tenant_a.organiser.pk, "capture.ready", {})
    assert len(receiver.received) == 4


def test_two_workers_never_send_the_same_attempt(
    allow_private, receiver, tenant_a, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(tenant_a, receiver.url)
    delivery = webhooks.queue_delivery(endpoint, "capture.ready", {"type": "capture.ready"})
    first = webhooks.attempt_delivery(delivery.pk, 1)
    second = webhooks.attempt_delivery(delivery.pk, 1)  # the same message redelivered
    assert first is not None
    assert second is None
    assert len(receiver.received) == 1


def test_the_sweeper_claims_a_due_row_once(allow_private, tenant_a):
    endpoint = endpoint_for(tenant_a, "http://127.0.0.1:9/")
    delivery = webhooks.queue_delivery(endpoint, "capture.ready", {})
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert webhooks.claim_due() == [(delivery.pk, 1)]
    assert webhooks.claim_due() == []  # claimed for CLAIM_SECONDS


def test_a_receiver_that_is_down_is_a_recorded_failure(allow_private, tenant_a):
    endpoint = endpoint_for(tenant_a, "http://127.0.0.1:9/")  # discard port: refused
    delivery = webhooks.queue_delivery(endpoint, "capture.ready", {})
    webhooks.attempt_delivery(delivery.pk, 1)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.response_status is None
    assert delivery.error.startswith("Connection failed")


def test_a_redirect_is_not_followed(allow_private, receiver, tenant_a):
    receiver.statuses = [302]
    endpoint = endpoint_for(tenant_a, receiver.url)
    delivery = webhooks.queue_delivery(endpoint, "capture.ready", {})
    webhooks.attempt_delivery(delivery.pk, 1)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_status) == (WebhookDelivery.Status.FAILED, 302)
    assert len(receiver.received) == 1


# -- SSRF -------------------------------------------------------------------------------

REFUSED_URLS = [
    "http://127.0.0.1/hook",
    "http://127.1.2.3:8080/",
    "http://10.0.0.5/hook",
    "http://192.168.1.10/",
    "http://172.16.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/",
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://localhost:8000/hook",  # a name that resolves to loopback
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_private_targets_are_refused_at_registration(tenant_a, url):
    with pytest.raises(ValidationError) as caught:
        endpoint_for(tenant_a, url)
    assert "public address" in caught.value.message_dict["url"][0]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("url", "event_types", "field"),
    [
        ("ftp://93.184.215.14/", ["capture.ready"], "url"),
        ("https://user:pw@93.184.215.14/", ["capture.ready"], "url"),
        ("https://93.184.215.14/" + "a" * 2000, ["capture.ready"], "url"),
        ("", ["capture.ready"], "url"),
        ("https://93.184.215.14/", [], "event_types"),
        ("https://93.184.215.14/", ["capture.deleted"], "event_types"),
    ],
)
def test_invalid_endpoints_are_refused_with_field_messages(tenant_a, url, event_types, field):
    with pytest.raises(ValidationError) as caught:
        endpoint_for(tenant_a, url, event_types) if event_types else webhooks.create_endpoint(
            tenant_a.organiser, url=url, event_types=event_types
        )
    assert field in caught.value.message_dict


def test_public_targets_are_accepted(tenant_a):
    endpoint = endpoint_for(tenant_a, "https://93.184.215.14/hook", ["sms.status", "strip.ready"])
    assert endpoint.event_types == ["strip.ready", "sms.status"]  # in EVENT_TYPES order
    assert len(endpoint.secret) > len("whsec_") + 32
    assert endpoint.created_by == tenant_a.owner


def test_the_setting_allows_private_targets(allow_private, tenant_a):
    assert endpoint_for(tenant_a, "http://10.0.0.5/hook").url == "http://10.0.0.5/hook"


def test_a_private_target_is_refused_again_at_send_time(
    settings, receiver, tenant_a, django_capture_on_commit_callbacks
):
    settings.BOOTHSITE_WEBHOOK_ALLOW_PRIVATE = True
    endpoint_for(tenant_a, receiver.url)
    settings.BOOTHSITE_WEBHOOK_ALLOW_PRIVATE = False
    emit(django_capture_on_commit_callbacks, tenant_a.organiser.pk, "capture.ready", {})
    assert receiver.received == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert "public address" in delivery.error


def test_a_name_that_resolves_elsewhere_at_send_time_is_refused(
    monkeypatch, receiver, tenant_a, django_capture_on_commit_callbacks
):
    port = int(receiver.url.split(":")[2].split("/")[0])
    answers = {"hooks.example.com": ["93.184.215.14"]}
    monkeypatch.setattr(webhooks, "resolve_host", lambda host, port: answers[host])
    endpoint_for(tenant_a, f"http://hooks.example.com:{port}/")
    answers["hooks.example.com"] = ["127.0.0.1"]  # DNS rebinding
    emit(django_capture_on_commit_callbacks, tenant_a.organiser.pk, "capture.ready", {})
    assert receiver.received == []
    assert "public address" in WebhookDelivery.objects.get().error


def test_the_connection_goes_to_the_checked_address(
    allow_private, monkeypatch, receiver, tenant_a, django_capture_on_commit_callbacks
):
    port = int(receiver.url.split(":")[2].split("/")[0])
    monkeypatch.setattr(webhooks, "resolve_host", lambda host, port: ["127.0.0.1"])
    endpoint = endpoint_for(tenant_a, f"http://hooks.example.com:{port}/in")
    emit(django_capture_on_commit_callbacks, tenant_a.organiser.pk, "capture.ready", {})
    [payload] = receiver.verified(endpoint.secret)
    assert payload["type"] == "capture.ready"
    headers, _ = receiver.received[0]
    assert headers["host"] == f"hooks.example.com:{port}"


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("100.64.0.1", False),  # carrier-grade NAT
        ("fe80::1%eth0", False),
    ],
)
def test_is_public_address(address, public):
    assert webhooks.is_public_address(address) is public


# -- the four events --------------------------------------------------------------------


def test_a_booth_session_emits_capture_session_and_strip_events(
    allow_private, receiver, tenant_a, django_capture_on_commit_callbacks
):
    from captures import services

    endpoint = endpoint_for(tenant_a, receiver.url)
    session = factories.make_session(tenant_a.booth)
    with django_capture_on_commit_callbacks(execute=True):
        capture = services.record_capture(session, factories.image_bytes("PNG"))
    with django_capture_on_commit_callbacks(execute=True):
        services.finish_session(session)
    payloads = receiver.verified(endpoint.secret)
    by_type = {p["type"]: p["data"] for p in payloads}
    assert set(by_type) == {"capture.ready", "session.finished", "strip.ready"}
    assert by_type["capture.ready"]["capture"] == str(capture.public_id)
    for data in by_type.values():
        assert data["session"] == str(session.public_id)
        assert data["booth"] == str(tenant_a.booth.public_id)
        assert data["event"] == {"id": str(tenant_a.event.public_id), "slug": "party"}
    assert by_type["session.finished"]["share_url"] == session.share_url()
    assert by_type["session.finished"]["captures"] == 1
    body = b" ".join(b for _, b in receiver.received).decode()
    assert capture.image.name not in body  # no media keys


def test_sms_status_carries_no_phone_number_or_text(
    allow_private, receiver, tenant_a, django_capture_on_commit_callbacks
):
    from messaging import services
    from messaging.models import SmsMessage

    endpoint = endpoint_for(tenant_a, receiver.url, ["sms.status"])
    session = factories.make_session(tenant_a.booth)
    sms = SmsMessage.objects.create(
        organiser=tenant_a.organiser,
        event=tenant_a.event,
        session=session,
        to="+447400123456",
        body="Your photos: https://boothsite.example/s/secret/",
        status=SmsMessage.Status.SUBMITTED,
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.apply_delivery_receipt(
            sms.callback_token, {"status": "delivered", "msisdn": "447400123456"}
        )
    [payload] = receiver.verified(endpoint.secret)
    assert payload["type"] == "sms.status"
    assert payload["data"]["sms"] == str(sms.public_id)
    assert payload["data"]["status"] == "delivered"
    text = json.dumps(payload)
    for secret in ("7400123456", "Your photos", "/s/secret/", sms.callback_token):
        assert secret not in text


def test_a_receiver_that_drips_its_answer_is_cut_off_at_the_total_timeout(
    allow_private, monkeypatch, tenant_a
):
    """Each byte comes before the socket timeout; the attempt's total bound still ends it."""
    import socket
    import time

    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))

    def drip() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\n" + b"x-slow: " + b"y" * 10_000:
                if stop.is_set():
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(0.05)

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    monkeypatch.setattr(webhooks, "TOTAL_TIMEOUT", 1.0)
    endpoint = endpoint_for(tenant_a, f"http://127.0.0.1:{listener.getsockname()[1]}/")
    delivery = webhooks.queue_delivery(endpoint, "capture.ready", {})
    try:
        webhooks.attempt_delivery(delivery.pk, 1)
    finally:
        stop.set()
        listener.close()
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert (delivery.response_status, delivery.error) == (None, "Timed out.")
