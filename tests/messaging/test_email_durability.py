"""Share emails are as durable as SMS (issue 14.5): the sweeper, stuck sends, pauses.

The broker is a real one that is down (a reserved port, connection refused), then a
private redis-server (tests/outage.py); the mail goes to Django's locmem outbox.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from boothsite.celery import app
from captures import services as capture_services
from captures.models import BoothSession
from events.models import Booth
from messaging import services
from messaging.models import EmailMessage, SendingPause
from tests import factories
from tests.outage import PrivateRedis, celery_broker

ADDRESS = "guest@example.com"
LATER = dt.timedelta(minutes=3)  # past BOOTHSITE_SWEEP_AFTER_SECONDS (120)
SEND = "messaging.tasks.send_email_message"


def shareable(booth: Booth) -> BoothSession:
    session = factories.make_session(booth)
    capture_services.record_capture(session, factories.image_bytes("PNG"))
    return session


def run(name: str, *args: int) -> None:
    """Run a task in this process, as a worker would, and fail on its error."""
    result = app.tasks[name].apply(args=args)
    assert result.successful(), result.traceback


# -- the broker is down at the commit ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_email_the_broker_did_not_take_goes_out_with_the_next_sweep_once(
    tmp_path, tenant_a, booth_client_a
):
    session = shareable(tenant_a.booth)
    broker = PrivateRedis(tmp_path)  # reserved, not started: connection refused
    with celery_broker(broker.url):
        response = booth_client_a.post(
            f"/api/v1/booth/sessions/{session.public_id}/share/email/",
            {"email": ADDRESS},
            format="json",
        )
    assert response.status_code == 202, response.content
    message = EmailMessage.objects.get()
    assert (message.status, message.enqueue_attempts, message.enqueued_at) == (
        EmailMessage.Status.QUEUED,
        1,
        None,  # the publish failed: due at the next sweep, without waiting
    )
    broker.start()
    try:
        with celery_broker(broker.url):
            assert services.sweep_queued_email().queued == 1
            assert (
                services.sweep_queued_email(timezone.now() + dt.timedelta(seconds=60)).queued == 0
            )
            messages = broker.messages()
    finally:
        broker.stop()
    assert messages == [(SEND, [message.pk])]
    run(SEND, message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts, message.enqueue_attempts) == ("sent", 1, 2)
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_queued_email_is_not_swept_before_it_is_due(tenant_a, django_capture_on_commit_callbacks):
    message = services.queue_share_email(tenant_a.booth, shareable(tenant_a.booth), ADDRESS)
    with django_capture_on_commit_callbacks() as queued:
        assert services.sweep_queued_email(timezone.now()).queued == 0
        assert services.sweep_queued_email(timezone.now() + LATER).queued == 1
    assert len(queued) == 1
    message.refresh_from_db()
    assert message.enqueue_attempts == 2


@pytest.mark.django_db  # on-commit hooks are captured, never run: every task is lost
def test_the_email_sweeper_gives_up_after_its_tries(
    tenant_a, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "EMAIL_MAX_ENQUEUES", 2)
    message = services.queue_share_email(tenant_a.booth, shareable(tenant_a.booth), ADDRESS)
    lost: list[object] = []
    for minutes in (3, 6, 9):
        with django_capture_on_commit_callbacks() as queued:
            services.sweep_queued_email(timezone.now() + dt.timedelta(minutes=minutes))
        lost += queued
    assert len(lost) == 1  # one more try, then given up
    message.refresh_from_db()
    assert (message.status, message.enqueue_attempts) == ("failed", 2)
    assert message.error_text.startswith("Never reached the mail server")
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_retry_pushes_the_sweep_back(tenant_a, settings, monkeypatch):
    monkeypatch.setattr("messaging.tasks.backoff", lambda retries: 600.0)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    message = services.queue_share_email(tenant_a.booth, shareable(tenant_a.booth), ADDRESS)
    with pytest.raises(Exception):  # noqa: B017, PT011  (the eager retry propagates)
        app.tasks[SEND].apply(args=(message.pk,), throw=True)
    message.refresh_from_db()
    assert message.status == EmailMessage.Status.QUEUED
    assert message.enqueued_at is not None
    assert message.enqueued_at > timezone.now() + LATER  # the retry's due time
    assert services.sweep_queued_email(timezone.now() + LATER).queued == 0


# -- a worker killed mid-send ---------------------------------------------------------------


@pytest.mark.django_db
def test_an_email_stuck_sending_is_marked_unknown_and_never_sent_again(tenant_a):
    message = services.queue_share_email(tenant_a.booth, shareable(tenant_a.booth), ADDRESS)
    long_ago = timezone.now() - services.STALE_SENDING - dt.timedelta(minutes=1)
    EmailMessage.objects.filter(pk=message.pk).update(
        status=EmailMessage.Status.SENDING, attempts=1, claimed_at=long_ago
    )
    fresh = services.queue_share_email(tenant_a.booth, shareable(tenant_a.booth), ADDRESS)
    # Created long ago, but its (retried) send only just began: not stale.
    EmailMessage.objects.filter(pk=fresh.pk).update(
        status=EmailMessage.Status.SENDING, created_at=long_ago, claimed_at=timezone.now()
    )
    assert services.expire_stale_sending() == 1
    message.refresh_from_db()
    fresh.refresh_from_db()
    assert message.status == EmailMessage.Status.UNKNOWN
    assert "may or may not" in message.error_text
    assert fresh.status == EmailMessage.Status.SENDING
    run(SEND, message.pk)  # the broker's redelivery of the killed task
    assert services.sweep_queued_email(timezone.now() + LATER).queued == 0
    message.refresh_from_db()
    assert message.status == EmailMessage.Status.UNKNOWN
    assert mail.outbox == []


@pytest.mark.django_db
def test_the_send_records_when_it_began(tenant_a):
    message = services.queue_share_email(tenant_a.booth, shareable(tenant_a.booth), ADDRESS)
    before = timezone.now()
    services.send_email_message(message)
    assert message.status == EmailMessage.Status.SENT
    assert message.claimed_at is not None
    assert message.claimed_at >= before


# -- pauses -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_event_pause_holds_queued_emails_until_it_is_lifted(
    tenant_a, django_capture_on_commit_callbacks
):
    message = services.queue_share_email(tenant_a.booth, shareable(tenant_a.booth), ADDRESS)
    pause = services.pause_event(tenant_a.event, reason="Burst of messages")
    run(SEND, message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (EmailMessage.Status.QUEUED, 0)
    with django_capture_on_commit_callbacks() as queued:
        assert services.sweep_queued_email(timezone.now() + LATER).queued == 0
    assert queued == []
    with django_capture_on_commit_callbacks(execute=True) as queued:
        assert services.lift_pause(pause) == 1
    assert len(queued) == 1
    message.refresh_from_db()
    assert (message.status, message.enqueue_attempts) == (EmailMessage.Status.SENT, 1)
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_an_account_pause_never_holds_emails(tenant_a, django_capture_on_commit_callbacks):
    message = services.queue_share_email(tenant_a.booth, shareable(tenant_a.booth), ADDRESS)
    SendingPause.objects.create(reason="The SMS provider refused the account.")
    SendingPause.objects.create(organiser=tenant_a.organiser, reason="Own account refused")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sweep_queued_email(timezone.now() + LATER).queued == 1
    message.refresh_from_db()
    assert message.status == EmailMessage.Status.SENT


@pytest.mark.django_db
def test_lifting_an_account_pause_queues_no_email(tenant_a, django_capture_on_commit_callbacks):
    services.queue_share_email(tenant_a.booth, shareable(tenant_a.booth), ADDRESS)
    pause = SendingPause.objects.create(reason="The SMS provider refused the account.")
    with django_capture_on_commit_callbacks() as queued:
        assert services.lift_pause(pause) == 0
    assert queued == []
