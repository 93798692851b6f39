"""The real vonage SDK against the local TLS stub: every outcome classified (RELIABILITY 11-14)."""

from __future__ import annotations

import logging
import time

import pytest

from messaging import gateway, services, tasks
from messaging.exceptions import SmsPaused
from messaging.models import SendingPause, SmsMessage

pytestmark = pytest.mark.django_db

PHONE = "+447400123456"


def run_task(sms: SmsMessage) -> None:
    """Run the task in-process, retries included (the ``vonage`` fixture allows them)."""
    tasks.send_sms_message.delay(sms.pk)


def queue(tenant, session) -> SmsMessage:
    return services.queue_share_sms(tenant.booth, session, PHONE)


def test_accepted_message_is_submitted_with_opaque_fields(vonage, tenant_a, shareable_session):
    sms = services.send_sms_message(queue(tenant_a, shareable_session))
    assert sms.status == SmsMessage.Status.SUBMITTED
    assert sms.gateway == "vonage"
    assert len(sms.provider_message_id) == 16
    assert str(sms.price) == "0.03330"
    assert sms.network == "23410"
    (request,) = vonage.requests
    form = request["form"]
    assert request["path"] == "/sms/json"
    assert form["to"] == "447400123456"
    assert form["client-ref"] == sms.client_ref
    assert "7400123456" not in form["client-ref"] + form["callback"]
    assert form["callback"].endswith(f"/hooks/sms/dlr/{sms.callback_token}/")
    assert "sig" not in form
    assert request["headers"]["Authorization"].startswith("Basic ")


@pytest.mark.parametrize("code", ["1", "10"])
def test_throttled_statuses_go_back_to_the_queue(vonage, tenant_a, shareable_session, code):
    vonage.script.append(("status", code))
    sms = queue(tenant_a, shareable_session)
    with pytest.raises(gateway.TransientGatewayError) as raised:
        services.send_sms_message(sms)
    assert raised.value.max_attempts == services.MAX_ATTEMPTS
    sms.refresh_from_db()
    assert (sms.status, sms.error_code, sms.attempts) == ("queued", code, 1)


def test_internal_error_gets_a_bounded_retry(vonage, tenant_a, shareable_session):
    vonage.script.extend([("status", "5")] * 5)
    sms = queue(tenant_a, shareable_session)
    run_task(sms)
    sms.refresh_from_db()
    assert sms.status == SmsMessage.Status.FAILED
    assert len(vonage.requests) == services.BOUNDED_ATTEMPTS


def test_transient_errors_are_retried_until_accepted(vonage, tenant_a, shareable_session):
    vonage.script.extend([("status", "1"), ("http", 429), ("http", 500), ("status", "0")])
    sms = queue(tenant_a, shareable_session)
    run_task(sms)
    sms.refresh_from_db()
    assert sms.status == SmsMessage.Status.SUBMITTED
    assert len(vonage.requests) == 4
    assert sms.attempts == 4


def test_retries_stop_after_the_last_attempt(vonage, tenant_a, shareable_session):
    vonage.script.extend([("status", "1")] * 10)
    sms = queue(tenant_a, shareable_session)
    run_task(sms)
    sms.refresh_from_db()
    assert sms.status == SmsMessage.Status.FAILED
    assert len(vonage.requests) == services.MAX_ATTEMPTS


def test_retry_delays_are_bounded_and_below_the_visibility_timeout(settings):
    delays = [tasks.backoff(n) for n in range(20) for _ in range(20)]
    assert min(delays) >= 1
    assert max(delays) <= tasks.RETRY_BACKOFF_MAX
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > tasks.RETRY_BACKOFF_MAX


@pytest.mark.parametrize("code", ["2", "3", "6", "7", "11", "12", "15"])
def test_permanent_statuses_fail_the_message(vonage, tenant_a, shareable_session, code):
    vonage.script.append(("status", code))
    sms = services.send_sms_message(queue(tenant_a, shareable_session))
    assert sms.status == SmsMessage.Status.FAILED
    assert sms.error_code == code
    assert sms.error_text == gateway.STATUS_TEXT[code]
    assert "Stub error" not in sms.error_text
    assert len(vonage.requests) == 1


@pytest.mark.parametrize(
    "behaviour",
    [
        ("status", "4"),
        ("status", "8"),
        ("status", "9"),
        ("status", "14"),
        ("http", 401),
        ("http", 403),
    ],
)
def test_account_errors_pause_all_sending(
    vonage, tenant_a, shareable_session, behaviour, mailoutbox, django_capture_on_commit_callbacks
):
    vonage.script.append(behaviour)
    sms = queue(tenant_a, shareable_session)
    with django_capture_on_commit_callbacks(execute=True):  # the alert is sent after commit
        sms = services.send_sms_message(sms)
    assert sms.status == SmsMessage.Status.QUEUED
    pause = SendingPause.objects.active().get()
    assert pause.event is None
    assert len(mailoutbox) == 1
    with pytest.raises(SmsPaused):
        queue(tenant_a, shareable_session)
    services.send_sms_message(sms)
    assert len(vonage.requests) == 1
    assert services.lift_pause(pause) == 1


def test_dropped_connection_is_unknown_and_never_resent(vonage, tenant_a, shareable_session):
    vonage.script.append(("drop",))
    sms = queue(tenant_a, shareable_session)
    run_task(sms)
    sms.refresh_from_db()
    assert sms.status == SmsMessage.Status.UNKNOWN
    assert len(vonage.requests) == 1


def test_hang_times_out_as_unknown(vonage, tenant_a, shareable_session):
    vonage.script.append(("hang", 3))
    sms = queue(tenant_a, shareable_session)
    started = time.monotonic()
    run_task(sms)
    assert time.monotonic() - started < 2.5
    sms.refresh_from_db()
    assert sms.status == SmsMessage.Status.UNKNOWN
    assert sms.error_code == "timeout"
    assert len(vonage.requests) == 1


def test_connection_refused_is_retried(vonage, tenant_a, shareable_session, settings):
    settings.VONAGE_REST_HOST = "127.0.0.1:9"  # discard port: nothing listens there
    sms = queue(tenant_a, shareable_session)
    with pytest.raises(gateway.TransientGatewayError):
        services.send_sms_message(sms)
    sms.refresh_from_db()
    assert (sms.status, sms.error_code) == ("queued", "connection")


def test_client_is_built_with_a_timeout_and_no_resends(vonage):
    client = gateway.VonageSmsGateway().client.http_client
    assert client.http_client_options.timeout == 1
    assert client.http_client_options.max_retries == 0
    assert client.http_client_options.pool_maxsize == 1


def test_worker_dying_after_the_send_causes_no_second_send(
    vonage, tenant_a, shareable_session, monkeypatch
):
    """Simulates SIGKILL between Vonage's answer and our write: the row stays "sending"."""
    sms = queue(tenant_a, shareable_session)

    def killed(*args, **kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(services, "_record_result", killed)
    with pytest.raises(SystemExit):
        run_task(sms)
    monkeypatch.undo()
    tasks.send_sms_message(sms.pk)  # the redelivered task
    assert len(vonage.requests) == 1
    sms.refresh_from_db()
    assert sms.status == SmsMessage.Status.SENDING
    SmsMessage.objects.filter(pk=sms.pk).update(created_at=sms.created_at - services.STALE_SENDING)
    assert services.expire_stale_sending() == 1
    sms.refresh_from_db()
    assert sms.status == SmsMessage.Status.UNKNOWN


def test_logs_hold_no_secrets_or_numbers(vonage, tenant_a, shareable_session, caplog):
    caplog.set_level(logging.DEBUG)  # root at DEBUG; the settings keep the SDK at WARNING
    assert logging.getLogger("vonage").getEffectiveLevel() >= logging.WARNING
    vonage.script.append(("http", 500))
    sms = queue(tenant_a, shareable_session)
    run_task(sms)
    text = caplog.text
    assert "7400123456" not in text
    assert "stub-secret-value" not in text
    assert "Authorization" not in text
