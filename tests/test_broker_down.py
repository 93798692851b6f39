"""A broker that is down at the commit: nothing lost, the sweepers queue it once (issue 11.2).

RELIABILITY 50 and 74. The broker is a private redis-server whose port is reserved but
not yet listening (connection refused), started later on that port; this process's
Celery app publishes to it for real (``CELERY_TASK_ALWAYS_EAGER`` off). The HTTP
requests go through the test client with real commits (``transaction=True``), so the
on-commit hooks run as they do in production.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from boothsite.celery import app, publish, publish_breaker
from captures import services as capture_services
from captures.models import Capture, RenderStatus, Strip
from messaging import services as sms_services
from messaging.models import SendingPause, SmsMessage
from tests import factories
from tests.outage import PrivateRedis, SilentServer, celery_broker

pytestmark = pytest.mark.django_db(transaction=True)
logger = logging.getLogger(__name__)

PHONE = "+447400123456"
LATER = dt.timedelta(minutes=3)  # past BOOTHSITE_SWEEP_AFTER_SECONDS (120)


def booth_session(client) -> tuple[dict[str, float], str]:
    """Run captures/, finish/ and share/sms/ for one new session; return their timings."""
    image = factories.image_bytes("JPEG", (640, 480))
    timings: dict[str, float] = {}
    session_id = client.post("/api/v1/booth/sessions/").json()["id"]
    base = f"/api/v1/booth/sessions/{session_id}"
    for name, path, data, code in [
        ("captures", "captures/", {"image": _data_url(image)}, 201),
        ("finish", "finish/", {}, 202),
        ("share", "share/sms/", {"phone": PHONE}, 202),
    ]:
        started = time.monotonic()
        response = client.post(f"{base}/{path}", data, format="json")
        timings[name] = time.monotonic() - started
        assert response.status_code == code, response.content
    return timings, session_id


def _data_url(data: bytes) -> str:
    import base64

    return "data:image/jpeg;base64," + base64.b64encode(data).decode()


def sweep(now: dt.datetime) -> None:
    capture_services.sweep_renders(now=now)
    sms_services.sweep_queued_sms(now=now)


def test_down_broker_answers_at_once_and_the_sweepers_queue_each_row_once(
    tmp_path, tenant_a, booth_client_a
):
    broker = PrivateRedis(tmp_path)  # reserved, not started: connection refused
    with celery_broker(broker.url):
        timings, session_id = booth_session(booth_client_a)
    logger.info("down broker: %s", ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()))
    capture = Capture.objects.get(session__public_id=session_id)
    strip = Strip.objects.get(session__public_id=session_id)
    sms = SmsMessage.objects.get()
    assert (capture.render_status, capture.render_attempts) == (RenderStatus.PENDING, 1)
    assert (strip.status, strip.render_attempts) == (RenderStatus.PENDING, 1)
    assert (sms.status, sms.enqueue_attempts) == (SmsMessage.Status.QUEUED, 1)

    broker.start()
    try:
        with celery_broker(broker.url):
            sweep(timezone.now() + LATER)
            sweep(timezone.now() + LATER)  # the rows were just queued: not due again
            messages = broker.messages()
    finally:
        broker.stop()
    assert messages == [
        ("captures.tasks.render_strips", [strip.session_id]),
        ("captures.tasks.render_variants", [capture.pk]),
        ("messaging.tasks.send_sms_message", [sms.pk]),
    ]
    for name, args in messages:  # what a worker would do with them
        result = app.tasks[name].apply(args=tuple(args))
        assert result.successful(), result.traceback
    capture.refresh_from_db()
    strip.refresh_from_db()
    sms.refresh_from_db()
    assert (capture.render_status, capture.render_attempts) == (RenderStatus.READY, 2)
    assert capture.variants.count() == 4
    assert strip.status == RenderStatus.READY
    assert (sms.status, sms.attempts, SmsMessage.objects.count()) == ("submitted", 1, 1)


def test_rows_the_broker_did_not_take_go_out_with_the_next_sweep(
    tmp_path, tenant_a, booth_client_a
):
    """A failed publish marks its row never queued: the next sweep takes it at once."""
    broker = PrivateRedis(tmp_path)  # reserved, not started: connection refused
    with celery_broker(broker.url):
        _, session_id = booth_session(booth_client_a)
    capture = Capture.objects.get(session__public_id=session_id)
    strip = Strip.objects.get(session__public_id=session_id)
    sms = SmsMessage.objects.get()
    assert (capture.render_enqueued_at, strip.render_enqueued_at, sms.enqueued_at) == (
        None,
        None,
        None,
    )
    broker.start()
    try:
        with celery_broker(broker.url):
            sweep(timezone.now())  # no wait of BOOTHSITE_SWEEP_AFTER_SECONDS
            messages = broker.messages()
    finally:
        broker.stop()
    assert sorted(name for name, _ in messages) == [
        "captures.tasks.render_strips",
        "captures.tasks.render_variants",
        "messaging.tasks.send_sms_message",
    ]


def test_rows_are_not_queued_again_before_they_are_due(tmp_path, tenant_a):
    session = factories.make_session(tenant_a.booth)
    capture = capture_services.record_capture(session, factories.image_bytes("PNG"))
    Capture.objects.filter(pk=capture.pk).update(render_status=RenderStatus.PENDING)
    broker = PrivateRedis(tmp_path)
    broker.start()
    try:
        with celery_broker(broker.url):
            sweep(timezone.now())
            assert broker.messages() == []
            sweep(timezone.now() + LATER)
            assert broker.messages() == [("captures.tasks.render_variants", [capture.pk])]
    finally:
        broker.stop()


@pytest.mark.django_db  # on-commit hooks are captured, never run: every task is lost
def test_the_sweeper_gives_up_after_its_attempts(
    tenant_a, settings, django_capture_on_commit_callbacks
):
    settings.BOOTHSITE_RENDER_MAX_ATTEMPTS = 2
    settings.BOOTHSITE_SMS_MAX_ENQUEUES = 2
    session = factories.make_session(tenant_a.booth)
    capture = capture_services.record_capture(session, factories.image_bytes("PNG"))
    sms = sms_services.queue_share_sms(tenant_a.booth, session, PHONE)
    lost: list[object] = []
    for minutes in (3, 6, 9):  # each queued task is lost (nothing runs them)
        with django_capture_on_commit_callbacks() as queued:
            sweep(timezone.now() + dt.timedelta(minutes=minutes))
        lost += queued
    assert len(lost) == 2  # one more try each, then given up
    capture.refresh_from_db()
    sms.refresh_from_db()
    assert (capture.render_status, capture.render_error, capture.render_attempts) == (
        RenderStatus.FAILED, capture_services.GAVE_UP, 2,
    )  # fmt: skip
    assert (sms.status, sms.error_code, sms.enqueue_attempts) == ("failed", "not_sent", 2)


@pytest.mark.django_db  # on-commit hooks are captured, never run
def test_paused_messages_are_not_queued_again(tenant_a, django_capture_on_commit_callbacks):
    session = factories.make_session(tenant_a.booth)
    capture_services.record_capture(session, factories.image_bytes("PNG"))
    sms = sms_services.queue_share_sms(tenant_a.booth, session, PHONE)
    pause = SendingPause.objects.create(reason="Account refused")
    with django_capture_on_commit_callbacks() as queued:
        assert sms_services.sweep_queued_sms(timezone.now() + LATER).queued == 0
    SendingPause.objects.filter(pk=pause.pk).update(lifted_at=timezone.now())
    SendingPause.objects.create(event=tenant_a.event, reason="Pumping")
    with django_capture_on_commit_callbacks() as queued:
        assert sms_services.sweep_queued_sms(timezone.now() + LATER).queued == 0
    assert queued == []
    sms.refresh_from_db()
    assert (sms.status, sms.enqueue_attempts) == ("queued", 1)


def test_two_sweeps_at_once_queue_each_row_once(tenant_a, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for SELECT ... FOR UPDATE SKIP LOCKED (.ci/run sets it)")
    session = factories.make_session(tenant_a.booth)
    for _ in range(3):
        capture_services.record_capture(session, factories.image_bytes("PNG"))
    sms_services.queue_share_sms(tenant_a.booth, session, PHONE)
    Capture.objects.update(render_status=RenderStatus.PENDING)
    SmsMessage.objects.update(status=SmsMessage.Status.QUEUED)
    queued: list[tuple[str, tuple[int, ...]]] = []
    for name in ("captures.tasks.render_variants", "messaging.tasks.send_sms_message"):
        task = app.tasks[name]
        monkeypatch.setattr(task, "delay", lambda *args, name=name: queued.append((name, args)))
    first_claimed, second_done = threading.Event(), threading.Event()
    later = timezone.now() + LATER

    def first() -> None:
        with transaction.atomic():  # holds its row locks until the second sweep is done
            sweep(later)
            first_claimed.set()
            second_done.wait(30)
        connection.close()

    def second() -> None:
        first_claimed.wait(30)
        sweep(later)
        second_done.set()
        connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(name for name, _ in queued) == ["captures.tasks.render_variants"] * 3 + [
        "messaging.tasks.send_sms_message"
    ]
    assert len(set(queued)) == 4


def test_publishing_pauses_after_a_silent_broker_and_costs_nothing_meanwhile():
    silent = SilentServer()
    task = app.tasks["captures.tasks.render_variants"]
    try:
        with celery_broker(silent.url):
            started = time.monotonic()
            assert publish(task, 1) is False
            first = time.monotonic() - started
            tried = len(silent.connections)
            started = time.monotonic()
            assert publish(task, 2) is False
            second = time.monotonic() - started
            assert publish_breaker.is_open()
            assert len(silent.connections) == tried  # the broker was not asked again
    finally:
        silent.close()
    logger.info("silent broker: first publish %.2f s, then %.3f s", first, second)
