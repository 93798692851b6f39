"""Celery tasks for SMS and share emails: ids in, nothing out."""

from __future__ import annotations

import random
from typing import Any

from celery import Task, shared_task

from events.models import Event, Organiser
from messaging import gateway, services
from messaging.exceptions import SendLater, TransientEmailError
from messaging.models import EmailMessage, SendingPause, SmsMessage

# Retry delays stay well below the Redis broker's visibility timeout (3600 s), or the
# broker would deliver the task again while it waits (RELIABILITY 53).
RETRY_BACKOFF_MAX = 300


def backoff(retries: int) -> float:
    """Seconds before retry number ``retries + 1``: exponential, capped, with full jitter."""
    ceiling = min(RETRY_BACKOFF_MAX, 2 ** (retries + 1))
    return max(1.0, random.uniform(0, ceiling))  # noqa: S311  (jitter, not a secret)


@shared_task(bind=True, max_retries=None, acks_late=True)
def send_sms_message(self: Task[Any, Any], sms_id: int) -> None:
    """Send one queued SMS; a no-op for a message already sent, paused or gone.

    Waits (retries with a short countdown) while the global send rate is used up. After
    a transient provider error the message is back in the queue and the task retries
    with backoff and jitter, up to the message's allowed attempts, then marks it failed.
    The service's claim makes a redelivered task harmless.
    """
    sms = SmsMessage.objects.select_related("event").filter(pk=sms_id).first()
    if sms is None:
        return
    try:
        services.send_sms_message(sms)
    except SendLater as exc:
        raise self.retry(countdown=exc.seconds) from None
    except gateway.TransientGatewayError as exc:
        sms.refresh_from_db()
        if sms.attempts >= exc.max_attempts:
            services.fail_after_last_attempt(sms)
            return
        countdown = backoff(sms.attempts)
        services.note_retry(sms, countdown)
        raise self.retry(countdown=countdown) from None


@shared_task
def expire_stale_sending() -> None:
    """Mark SMS and emails stuck in "sending" as unknown (every few minutes, by beat)."""
    services.expire_stale_sending()


@shared_task
def purge_expired_personal_data() -> None:
    """Erase phone numbers and, where set, photos past each event's retention (daily)."""
    services.purge_expired_personal_data()


@shared_task
def sweep_queued_sms() -> None:
    """Queue again queued SMS whose send task was lost (beat, every minute).

    See ``services.sweep_queued_sms``: paused messages are left alone, tries are
    bounded, and two sweeps at once queue each message once.
    """
    services.sweep_queued_sms()


@shared_task
def sweep_queued_email() -> None:
    """Queue again queued share emails whose send task was lost (beat, every minute).

    See ``services.sweep_queued_email``: emails of a paused event are left alone,
    tries are bounded, and two sweeps at once queue each email once.
    """
    services.sweep_queued_email()


@shared_task
def send_pause_alert(pause_id: int) -> None:
    """E-mail the platform staff that SMS sending paused; never raises for the mail.

    Queued after the pause's commit. A pause deleted meanwhile is ignored; a mail server
    that is down is logged by ``services.send_pause_alert``, and the task ends normally.
    """
    pause = SendingPause.objects.filter(pk=pause_id).first()
    if pause is not None:
        services.send_pause_alert(pause)


@shared_task
def send_cap_notice(organiser_id: int, event_id: int | None = None) -> None:
    """E-mail an organiser's owners that an SMS cap was reached; never raises for the mail.

    ``event_id`` names the event whose daily cap it is; without it, the monthly cap.
    Ids only: the mail is composed here from the rows.
    """
    organiser = Organiser.objects.filter(pk=organiser_id).first()
    event = (
        Event.objects.filter(pk=event_id, organiser_id=organiser_id).first() if event_id else None
    )
    if organiser is not None and (event_id is None or event is not None):
        services.send_cap_notice(organiser, event)


#: Seconds between looks at a strip still rendering, before a share email goes out.
STRIP_WAIT_COUNTDOWN = 5


@shared_task(bind=True, max_retries=None, acks_late=True)
def send_email_message(self: Task[Any, Any], email_id: int) -> None:
    """Send one queued share email; a no-op for one already sent, failed or gone.

    Waits (short retries) while the session's strip is still rendering, at most
    ``services.STRIP_WAIT``; each wait and retry is noted (``services.note_retry``) so
    the sweeper leaves the email to it. After a mail server or email service error the email is
    back in the queue and the task retries with backoff and jitter, up to
    ``services.EMAIL_MAX_ATTEMPTS`` tries, then marks it failed. Never raises for the
    mail itself: a dead SMTP server ends in a failed row, not a crashed worker.
    """
    message = EmailMessage.objects.select_related("event", "session").filter(pk=email_id).first()
    if message is None:
        return
    try:
        # Run eagerly (embedded), a retry would run again at once: send without waiting.
        services.send_email_message(message, wait_for_strip=not self.request.is_eager)
    except services.StripNotReady:
        services.note_retry(message, STRIP_WAIT_COUNTDOWN)
        raise self.retry(countdown=STRIP_WAIT_COUNTDOWN) from None
    except TransientEmailError:
        message.refresh_from_db()
        if message.attempts >= services.EMAIL_MAX_ATTEMPTS:
            services.fail_email_after_last_attempt(message)
            return
        countdown = backoff(message.attempts)
        services.note_retry(message, countdown)
        raise self.retry(countdown=countdown) from None
