"""SMS: queue a guest's link, send it through the gateway, record every outcome.

The phone number is personal data: it is stored on the SmsMessage, masked wherever it
is shown, and never put in the text, a URL, a log line or a Vonage field that cannot be
redacted (``client-ref`` and ``callback`` carry opaque ids only).
"""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from boothsite.celery import enqueue_on_commit
from captures.models import BoothSession
from events.models import Booth, Event
from messaging import gateway, phones, tasks
from messaging.exceptions import SmsUnavailable
from messaging.models import SmsMessage

logger = logging.getLogger(__name__)

MAX_EVENT_NAME = 60
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def allowed_countries(event: Event) -> list[str]:
    """Return the countries the event may text: its own list narrowed to the platform's."""
    platform = [code.upper() for code in settings.BOOTHSITE_SMS_COUNTRIES]
    own = [code.upper() for code in (event.sms_allowed_countries or [])]
    return [code for code in own if code in platform] if own else platform


def render_share_text(session: BoothSession) -> str:
    """Return the SMS text for a session's guest link (never holds the phone number).

    Uses the event's own template when set (``{link}`` stands for the link; control
    characters are stripped), else ``templates/messaging/sms/share_link.txt``.
    """
    event = session.event
    link = session.share_url()
    if event.sms_template:
        template = CONTROL_CHARACTERS.sub(" ", event.sms_template)
        text = template.replace("{link}", link) if "{link}" in template else f"{template} {link}"
        return text.strip()
    return render_to_string(
        "messaging/sms/share_link.txt",
        {"event_name": CONTROL_CHARACTERS.sub(" ", event.name)[:MAX_EVENT_NAME], "link": link},
    ).strip()


def queue_share_sms(booth: Booth, session: BoothSession, phone: object) -> SmsMessage:
    """Validate ``phone`` and queue an SMS with the session's link; send it on commit.

    Raises phones.InvalidPhone (400) for an invalid, SMS-incapable or not-allowed number
    and SmsUnavailable (409) for a session with nothing to share yet.
    """
    to = phones.normalise_phone(phone, allowed_countries=allowed_countries(session.event))
    if not session.captures.visible().exists():
        msg = "Take a photo before sending the link."
        raise SmsUnavailable(msg)
    with transaction.atomic():
        sms = SmsMessage.objects.create(
            organiser=session.event.organiser,
            event=session.event,
            session=session,
            requested_by=booth,
            to=to,
            body=render_share_text(session),
        )
        enqueue_on_commit(tasks.send_sms_message, sms.pk)
    return sms


def callback_url(sms: SmsMessage) -> str:
    """Return the delivery-receipt webhook URL of one message (opaque token, no PII)."""
    return f"{settings.SITE_URL}{reverse('messaging:dlr', args=[sms.callback_token])}"


def send_sms_message(sms: SmsMessage) -> SmsMessage:
    """Send a queued message once and record the outcome.

    The row is claimed with a conditional UPDATE (queued → sending), so a task that runs
    twice never sends twice. Returns the message with its new status; a message that was
    not queued is returned untouched.
    """
    claimed = SmsMessage.objects.filter(pk=sms.pk, status=SmsMessage.Status.QUEUED).update(
        status=SmsMessage.Status.SENDING, attempts=sms.attempts + 1
    )
    if not claimed:
        sms.refresh_from_db()
        return sms
    result = gateway.get_gateway().send_sms(
        sms.to, sms.body, client_ref=sms.client_ref, callback_url=callback_url(sms)
    )
    now = timezone.now()
    fields: dict[str, object] = {
        "gateway": result.gateway,
        "error_code": result.error_code,
        "error_text": result.error_text[:255],
    }
    if result.outcome == "submitted":
        fields |= {
            "status": SmsMessage.Status.SUBMITTED,
            "provider_message_id": result.message_id,
            "price": result.price,
            "network": result.network,
            "submitted_at": now,
        }
    elif result.outcome == "retry":
        fields |= {"status": SmsMessage.Status.QUEUED}
    elif result.outcome == "unknown":
        fields |= {"status": SmsMessage.Status.UNKNOWN}
    else:
        fields |= {"status": SmsMessage.Status.FAILED, "final_at": now}
    SmsMessage.objects.filter(pk=sms.pk).update(**fields)
    sms.refresh_from_db()
    logger.info("SMS %s is %s (%s).", sms.public_id, sms.status, result.gateway)
    if result.outcome == "retry":
        raise gateway.TransientGatewayError(result.error_code)
    return sms


RECEIPT_STATUSES = {
    "delivered": SmsMessage.Status.DELIVERED,
    "failed": SmsMessage.Status.FAILED,
    "rejected": SmsMessage.Status.REJECTED,
    "expired": SmsMessage.Status.EXPIRED,
    "unknown": SmsMessage.Status.UNKNOWN,
}
RECEIPT_MAX_AGE_SECONDS = 300


def receipt_is_authentic(params: dict[str, str]) -> bool:
    """Return whether a receipt may be applied.

    Without ``VONAGE_SIGNATURE_SECRET`` (signing is opt-in at Vonage) the unguessable
    per-message URL is the only check. With it, ``sig`` must match and ``timestamp``
    must be within 300 s of now, since the SDK does not check freshness (replays).
    """
    if not settings.VONAGE_SIGNATURE_SECRET:
        return True
    try:
        age = abs(timezone.now().timestamp() - int(params.get("timestamp", "")))
    except ValueError:
        return False
    return age <= RECEIPT_MAX_AGE_SECONDS and gateway.check_signature(params)


def apply_delivery_receipt(callback_token: str, params: dict[str, str]) -> SmsMessage | None:
    """Record a receipt and move the message to its final status, once.

    An unknown token returns None. A final status never moves backwards or sideways
    (a late ``accepted`` after ``delivered`` changes nothing); intermediate statuses
    (``accepted``, ``buffered``) are stored as receipts only.
    """
    sms = SmsMessage.objects.filter(callback_token=callback_token).first()
    if sms is None:
        logger.info("Delivery receipt for an unknown message ignored.")
        return None
    raw = {key: value for key, value in params.items() if key not in {"sig", "msisdn", "to"}}
    receipt_status = params.get("status", "")[:16]
    with transaction.atomic():
        sms.receipts.create(
            status=receipt_status, err_code=params.get("err-code", "")[:16], raw=raw
        )
        new_status = RECEIPT_STATUSES.get(receipt_status)
        if new_status is not None:
            SmsMessage.objects.filter(pk=sms.pk).exclude(
                status__in=SmsMessage.FINAL_STATUSES
            ).update(
                status=new_status,
                final_at=timezone.now(),
                error_code=params.get("err-code", "")[:16],
            )
    sms.refresh_from_db()
    return sms
