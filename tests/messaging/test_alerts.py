"""Alerts that cannot be sent never fail a request or a task (issue 11.5, RELIABILITY 75).

The mail server is Django's real SMTP backend pointed at a closed port on 127.0.0.1
(connection refused), with ``ADMINS`` set as ``.env.example`` has it. Commits are real
(``transaction=True``), so the alerts run where they run in production: after the
commit, in a task (in-process here, as on the embedded default).
"""

from __future__ import annotations

import logging

import pytest

from boothsite.celery import app as celery_app
from messaging import services, tasks
from messaging.models import SendingPause, SmsMessage
from tests.daphne import free_port

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def smtp_down(settings) -> int:
    """Send mail over SMTP to a port nothing listens on; return the port."""
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    settings.ADMINS = [("Ops", "ops@example.com")]
    return port


def share(client, session, phone):
    return client.post(
        f"/api/v1/booth/sessions/{session.public_id}/share/sms/", {"phone": phone}, format="json"
    )


def test_the_share_that_trips_the_breaker_answers_503_and_the_pause_stands(
    smtp_down, booth_client_a, shareable_session, settings, caplog
):
    settings.BOOTHSITE_SMS_PER_BOOTH_PER_MINUTE = 100
    assert settings.BOOTHSITE_SMS_PREFIX_BURST == 20
    codes = [share(booth_client_a, shareable_session, f"+44740012{n:04d}").status_code
             for n in range(19)]  # fmt: skip
    assert codes == [202] * 19
    with caplog.at_level(logging.WARNING, logger="messaging.services"):
        response = share(booth_client_a, shareable_session, "+447400129999")
    assert response.status_code == 503
    assert response.json()["detail"] == services.PAUSED_MESSAGE
    pause = SendingPause.objects.active().get()
    assert pause.event == shareable_session.event
    assert f"Alert for SMS pause {pause.pk} not sent (ConnectionRefusedError)." in caplog.text
    assert "7400129999" not in caplog.text


def test_vonage_status_9_pauses_the_account_and_the_send_task_ends_normally(
    smtp_down, vonage, tenant_a, shareable_session, monkeypatch, caplog
):
    monkeypatch.setattr(celery_app.conf, "task_eager_propagates", True)  # a raise would show
    sms = SmsMessage.objects.create(
        organiser=tenant_a.organiser, event=tenant_a.event, session=shareable_session,
        to="+447400123456", body="Your photos", enqueue_attempts=1,
    )  # fmt: skip
    vonage.script.append(("status", "9"))
    with caplog.at_level(logging.WARNING, logger="messaging.services"):
        result = tasks.send_sms_message.apply(args=(sms.pk,))
    assert result.successful()
    pause = SendingPause.objects.active().get()
    assert (pause.event, pause.error_code) == (None, "9")
    sms.refresh_from_db()
    assert sms.status == SmsMessage.Status.QUEUED
    assert f"Alert for SMS pause {pause.pk} not sent" in caplog.text


def test_the_alert_task_logs_a_mail_server_that_is_down_and_ends_normally(smtp_down, caplog):
    pause = SendingPause.objects.create(reason="The SMS provider refused the account.")
    with caplog.at_level(logging.WARNING, logger="messaging.services"):
        result = tasks.send_pause_alert.apply(args=(pause.pk,))
    assert result.successful()
    assert "not sent (ConnectionRefusedError)" in caplog.text


def test_the_cap_notice_with_smtp_down_leaves_the_refusal_as_it_was(
    smtp_down, booth_client_a, shareable_session, settings, tenant_a, caplog
):
    settings.BOOTHSITE_SMS_PER_EVENT_PER_DAY = 1
    tenant_a.owner.email = "owner@example.com"
    tenant_a.owner.save()
    assert share(booth_client_a, shareable_session, "+447400123456").status_code == 202
    with caplog.at_level(logging.WARNING, logger="messaging.services"):
        response = share(booth_client_a, shareable_session, "+447400123457")
    assert response.status_code == 429
    assert response.json()["detail"] == "SMS quota for this event reached."
    assert "SMS cap notice for organiser" in caplog.text


def test_alerts_are_sent_after_the_commit(booth_client_a, shareable_session, settings, mailoutbox):
    settings.ADMINS = [("Ops", "ops@example.com")]
    settings.BOOTHSITE_SMS_PER_BOOTH_PER_MINUTE = 100
    settings.BOOTHSITE_SMS_PREFIX_BURST = 2
    assert share(booth_client_a, shareable_session, "+447400120001").status_code == 202
    assert share(booth_client_a, shareable_session, "+447400120002").status_code == 503
    assert [m.subject for m in mailoutbox] == [
        "[Boothsite] SMS paused for an event: Burst of messages to adjacent numbers (SMS pumping)."
    ]
    assert str(shareable_session.event.public_id) in mailoutbox[0].body
    assert "7400120002" not in mailoutbox[0].body


def test_an_alert_delivered_twice_is_sent_once(settings, mailoutbox):
    settings.ADMINS = [("Ops", "ops@example.com")]
    pause = SendingPause.objects.create(reason="The SMS provider refused the account.")
    for _ in range(2):
        assert tasks.send_pause_alert.apply(args=(pause.pk,)).successful()
    assert [m.subject for m in mailoutbox] == ["[Boothsite] SMS sending paused"]
