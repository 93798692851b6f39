"""SMS: queue a guest's link, send it through the gateway, record every outcome.

The phone number is personal data: it is stored on the SmsMessage with a keyed hash,
masked wherever it is shown, and never put in the text, a URL, a log line or a Vonage
field that cannot be redacted (``client-ref`` and ``callback`` carry opaque ids only).
Every limit here is counted under a row lock on the organiser, so concurrent requests
cannot slip past a cap (RELIABILITY 7).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.core.mail import mail_admins, send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from boothsite.celery import enqueue_on_commit
from captures import services as capture_services
from captures.models import BoothSession, Capture
from captures.storage import delete_quietly
from events.models import Booth, Event, Organiser
from events.roles import Role
from messaging import gateway, phones, ratelimit
from messaging.exceptions import SendLater, SmsLimitReached, SmsPaused, SmsUnavailable
from messaging.models import AuditEntry, DeliveryReceipt, SendingPause, SmsMessage

logger = logging.getLogger(__name__)

MAX_EVENT_NAME = 60
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
PREFIX_WINDOW = dt.timedelta(minutes=10)
STALE_SENDING = dt.timedelta(minutes=10)
PAUSED_MESSAGE = "SMS sending is temporarily paused for this event."
# Tries in all before a message is marked failed: transient errors, and Vonage status 5.
MAX_ATTEMPTS = 6
BOUNDED_ATTEMPTS = 3


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
        return " ".join(text.split())
    return render_to_string(
        "messaging/sms/share_link.txt",
        {"event_name": CONTROL_CHARACTERS.sub(" ", event.name)[:MAX_EVENT_NAME], "link": link},
    ).strip()


def active_pause(event: Event) -> SendingPause | None:
    """Return the pause that stops the event's sending (account-wide or its own), if any."""
    return SendingPause.objects.active().filter(Q(event__isnull=True) | Q(event=event)).first()


def queue_share_sms(booth: Booth, session: BoothSession, phone: object) -> SmsMessage:
    """Validate ``phone``, apply every limit, and queue an SMS with the session's link.

    Raises phones.InvalidPhone (400) for an invalid, SMS-incapable or not-allowed number;
    SmsUnavailable (409) for a session with nothing to share; SmsLimitReached (429, with
    ``retry_after``) when a per-number, per-booth, per-event or per-organiser cap is
    reached; SmsPaused (503) while sending is paused, or when this request trips the
    pumping breaker. The task ``messaging.tasks.send_sms_message`` sends it on commit.
    """
    event = session.event
    to = phones.normalise_phone(phone, allowed_countries=allowed_countries(event))
    if not session.captures.visible().exists():
        msg = "Take a photo before sending the link."
        raise SmsUnavailable(msg)
    if active_pause(event) is not None:
        raise SmsPaused(PAUSED_MESSAGE)
    with transaction.atomic():
        organiser = Organiser.objects.select_for_update().get(pk=event.organiser_id)
        now = timezone.now()
        to_hash = phones.phone_hash(to)
        _check_caps(organiser, event, booth, to_hash, now)
        if _prefix_burst(event, to, now):
            pause_event(event, reason="Burst of messages to adjacent numbers (SMS pumping).")
        else:
            sms = SmsMessage.objects.create(
                organiser=organiser,
                event=event,
                session=session,
                requested_by=booth,
                to=to,
                to_hash=to_hash,
                body=render_share_text(session),
            )
            enqueue_on_commit("messaging.tasks.send_sms_message", sms.pk)
            return sms
    raise SmsPaused(PAUSED_MESSAGE)


def precheck_share(booth: Booth, event: Event, phone: object) -> str:
    """Raise what ``queue_share_sms`` would raise for ``phone`` now; return it as E.164.

    Lets an endpoint refuse before it stores anything; ``queue_share_sms`` checks again
    under the lock, which is what makes the caps exact.
    """
    to = phones.normalise_phone(phone, allowed_countries=allowed_countries(event))
    if active_pause(event) is not None:
        raise SmsPaused(PAUSED_MESSAGE)
    _check_caps(event.organiser, event, booth, phones.phone_hash(to), timezone.now())
    return to


@dataclass(frozen=True)
class SessionRun:
    """What ``run_booth_session`` made: the finished session and its SMS, if one was asked."""

    session: BoothSession
    sms: SmsMessage | None


def run_booth_session(
    booth: Booth,
    images: Sequence[bytes | str],
    *,
    event: Event | None = None,
    phone: str | None = None,
    layouts: Sequence[str] = (),
    on_capture: Callable[[Capture], None] | None = None,
) -> SessionRun:
    """Run one whole booth session: start it, store each image, finish it, text the link.

    What a kiosk does over several requests, in one call: the seed's ``send-mms`` and
    the ``snap`` command use it. ``event`` defaults to the booth's current event;
    ``images`` are 1 to the event's captures per session, each raw PNG/JPEG bytes or a
    ``data:image/…;base64,`` URL; ``layouts`` default to the event's strip layouts.
    With ``phone``, every SMS check (``precheck_share``) runs before anything is stored,
    and ``queue_share_sms`` checks again under the lock. ``on_capture`` is called after
    each image is stored (a progress hook: the number stored so far also tells a caller
    which image a later error is about).

    Raises what the steps raise: ``BoothNotAssigned`` (no or an archived event),
    ``imaging.InvalidImage`` for a bad image (the images before it stay stored in an
    open session), ``CaptureLimitReached``, ``phones.InvalidPhone``,
    ``SmsLimitReached`` and ``SmsPaused``.
    """
    target = event or booth.current_event
    if phone is not None and target is not None:
        precheck_share(booth, target, phone)
    session = capture_services.start_session(booth, event)
    for data in images:
        capture = capture_services.record_capture(session, data)
        if on_capture is not None:
            on_capture(capture)
    capture_services.finish_session(session, layouts)
    sms = None if phone is None else queue_share_sms(booth, session, phone)
    return SessionRun(session=session, sms=sms)


def _check_caps(
    organiser: Organiser, event: Event, booth: Booth, to_hash: str, now: dt.datetime
) -> None:
    day = now - dt.timedelta(days=1)
    minute = now - dt.timedelta(minutes=1)
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    per_number = SmsMessage.objects.filter(event=event, to_hash=to_hash, created_at__gte=day)
    if per_number.count() >= settings.BOOTHSITE_SMS_PER_NUMBER_PER_DAY:
        oldest = per_number.order_by("created_at").values_list("created_at", flat=True)[0]
        raise SmsLimitReached(
            "Too many messages to this number. Try again later.",
            retry_after=int((oldest + dt.timedelta(days=1) - now).total_seconds()) + 1,
        )
    per_booth = SmsMessage.objects.filter(requested_by=booth, created_at__gte=minute).count()
    if per_booth >= settings.BOOTHSITE_SMS_PER_BOOTH_PER_MINUTE:
        msg = "This booth is sending too many messages. Try again in a minute."
        raise SmsLimitReached(msg, retry_after=60)
    per_event = SmsMessage.objects.filter(event=event, created_at__gte=day).count()
    if per_event >= settings.BOOTHSITE_SMS_PER_EVENT_PER_DAY:
        _notify_cap_once(organiser, f"event {event.name}", f"event-day:{event.pk}:{now:%Y%m%d}")
        raise SmsLimitReached("SMS quota for this event reached.", retry_after=3600)
    per_month = SmsMessage.objects.filter(organiser=organiser, created_at__gte=month_start)
    if per_month.count() >= settings.BOOTHSITE_SMS_PER_ORGANISER_PER_MONTH:
        _notify_cap_once(organiser, "this month", f"org-month:{organiser.pk}:{now:%Y%m}")
        raise SmsLimitReached("SMS quota for this organiser reached.", retry_after=86400)


def _notify_cap_once(organiser: Organiser, what: str, key: str) -> None:
    """Tell the organiser's owners that a cap was reached: once per cap and period."""
    if not cache.add(f"sms-cap-notice:{key}", 1, timeout=32 * 86400):
        return
    logger.warning("SMS cap reached for organiser %s (%s).", organiser.slug, what)
    owners = organiser.memberships.filter(role=Role.OWNER).select_related("user")
    recipients = [m.user.email for m in owners if m.user.email]
    if recipients:
        send_mail(
            f"Boothsite: SMS limit reached ({what})",
            f"Guests of {organiser.name} can no longer get their link by SMS ({what}). "
            "QR codes and gallery links still work.",
            None,
            recipients,
            fail_silently=True,
        )


def _prefix_burst(event: Event, to: str, now: dt.datetime) -> bool:
    """Whether this message would be one too many to the number's prefix (RELIABILITY 9)."""
    recent = SmsMessage.objects.filter(
        event=event, to__startswith=to[:-4], created_at__gte=now - PREFIX_WINDOW
    ).count()
    return recent + 1 >= settings.BOOTHSITE_SMS_PREFIX_BURST


def pause_event(event: Event, *, reason: str) -> SendingPause:
    """Pause the event's SMS, cancel what is queued for it, and alert the platform staff."""
    pause = SendingPause.objects.create(event=event, reason=reason)
    cancelled = SmsMessage.objects.filter(event=event, status=SmsMessage.Status.QUEUED).update(
        status=SmsMessage.Status.CANCELLED, final_at=timezone.now(), error_code="paused"
    )
    logger.error("SMS paused for event %s: %s (%d cancelled).", event.public_id, reason, cancelled)
    mail_admins(f"SMS paused for an event: {reason}", f"Event {event.public_id}: {reason}")
    return pause


def pause_account(result: gateway.GatewayResult) -> SendingPause:
    """Stop all sending after a provider answer that concerns the whole account."""
    existing = SendingPause.objects.active().filter(event__isnull=True).first()
    if existing is not None:
        return existing
    pause = SendingPause.objects.create(
        reason=result.error_text or "The SMS provider refused the account.",
        error_code=result.error_code,
    )
    logger.error("SMS sending paused for the account: %s", pause.reason)
    mail_admins("SMS sending paused", f"{pause.reason} Lift the pause in the admin once fixed.")
    return pause


def lift_pause(pause: SendingPause) -> int:
    """Lift a pause and queue again the messages it held back; return how many."""
    SendingPause.objects.filter(pk=pause.pk).update(lifted_at=timezone.now())
    waiting = SmsMessage.objects.filter(status=SmsMessage.Status.QUEUED)
    if pause.event_id:
        waiting = waiting.filter(event_id=pause.event_id)
    ids = list(waiting.values_list("pk", flat=True))
    for sms_id in ids:
        enqueue_on_commit("messaging.tasks.send_sms_message", sms_id)
    return len(ids)


def callback_url(sms: SmsMessage) -> str:
    """Return the delivery-receipt webhook URL of one message (opaque token, no PII)."""
    return f"{settings.SITE_URL}{reverse('messaging:dlr', args=[sms.callback_token])}"


def send_sms_message(sms: SmsMessage) -> SmsMessage:
    """Send a queued message once and record the outcome.

    Does nothing while sending is paused (the message stays queued) and raises SendLater
    when the global send rate is used up. The row is then claimed with a conditional
    UPDATE (queued → sending), so a task that runs twice, or is redelivered after its
    worker died, never sends twice. Raises gateway.TransientGatewayError after putting
    the message back in the queue when the provider asks to retry.
    """
    if active_pause(sms.event) is not None:
        return sms
    wait = ratelimit.seconds_until_slot(settings.BOOTHSITE_SMS_SEND_RATE)
    if wait:
        raise SendLater(wait)
    claimed = SmsMessage.objects.filter(pk=sms.pk, status=SmsMessage.Status.QUEUED).update(
        status=SmsMessage.Status.SENDING, attempts=sms.attempts + 1
    )
    if not claimed:
        sms.refresh_from_db()
        return sms
    result = gateway.get_gateway().send_sms(
        sms.to, sms.body, client_ref=sms.client_ref, callback_url=callback_url(sms)
    )
    _record_result(sms, result)
    sms.refresh_from_db()
    logger.info("SMS %s is %s (%s).", sms.public_id, sms.status, result.gateway)
    if result.outcome in {"retry", "retry_bounded"}:
        attempts = BOUNDED_ATTEMPTS if result.outcome == "retry_bounded" else MAX_ATTEMPTS
        raise gateway.TransientGatewayError(result.error_code, max_attempts=attempts)
    if result.outcome == "halt":
        pause_account(result)
    return sms


def _record_result(sms: SmsMessage, result: gateway.GatewayResult) -> None:
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
    elif result.outcome in {"retry", "retry_bounded", "halt"}:
        fields |= {"status": SmsMessage.Status.QUEUED}
    elif result.outcome == "unknown":
        fields |= {"status": SmsMessage.Status.UNKNOWN}
    else:
        fields |= {"status": SmsMessage.Status.FAILED, "final_at": now}
    SmsMessage.objects.filter(pk=sms.pk, status=SmsMessage.Status.SENDING).update(**fields)


def fail_after_last_attempt(sms: SmsMessage) -> None:
    """Mark a queued message failed: its last allowed attempt met a transient error."""
    SmsMessage.objects.filter(pk=sms.pk, status=SmsMessage.Status.QUEUED).update(
        status=SmsMessage.Status.FAILED, final_at=timezone.now()
    )


def expire_stale_sending() -> int:
    """Mark messages stuck in "sending" (their worker died mid-send) as unknown.

    They are never resent: the provider may have accepted them. A later delivery
    receipt still settles them. Returns how many were marked.
    """
    cutoff = timezone.now() - STALE_SENDING
    return SmsMessage.objects.filter(
        status=SmsMessage.Status.SENDING, created_at__lt=cutoff
    ).update(status=SmsMessage.Status.UNKNOWN, error_code="dropped")


RECEIPT_STATUSES = {
    "delivered": SmsMessage.Status.DELIVERED,
    "failed": SmsMessage.Status.FAILED,
    "rejected": SmsMessage.Status.REJECTED,
    "expired": SmsMessage.Status.EXPIRED,
    "unknown": SmsMessage.Status.UNKNOWN,
}
RECEIPT_MAX_AGE_SECONDS = 300
PERSONAL_RECEIPT_FIELDS = frozenset({"sig", "msisdn", "to"})


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
    """Record a receipt once and move the message to its final status, once.

    An unknown token returns None. A receipt seen before (Vonage retries) is ignored. A
    final status never moves backwards or sideways (a late ``accepted`` after
    ``delivered`` changes nothing); ``accepted`` and ``buffered`` are stored only. The
    receipt's ``messageId`` fills in a message whose send outcome was unknown.
    """
    sms = SmsMessage.objects.filter(callback_token=callback_token).first()
    if sms is None:
        logger.info("Delivery receipt for an unknown message ignored.")
        return None
    raw = {k: v for k, v in params.items() if k not in PERSONAL_RECEIPT_FIELDS}
    dedupe = hashlib.sha256(
        json.dumps([sms.pk, sorted((k, v) for k, v in raw.items() if k != "timestamp")]).encode()
    ).hexdigest()
    status = params.get("status", "")[:16]
    err_code = params.get("err-code", "")[:16]
    try:
        with transaction.atomic():
            DeliveryReceipt.objects.create(
                sms=sms, dedupe_key=dedupe, status=status, err_code=err_code, raw=raw
            )
            new_status = RECEIPT_STATUSES.get(status)
            if new_status is not None:
                SmsMessage.objects.filter(pk=sms.pk).exclude(
                    status__in=SmsMessage.FINAL_STATUSES
                ).update(status=new_status, final_at=timezone.now(), error_code=err_code)
            message_id = params.get("messageId", "")[:64]
            if message_id:
                SmsMessage.objects.filter(pk=sms.pk, provider_message_id="").update(
                    provider_message_id=message_id
                )
    except IntegrityError:
        logger.info("Duplicate delivery receipt for SMS %s ignored.", sms.public_id)
    sms.refresh_from_db()
    return sms


def reveal_phone(sms: SmsMessage, actor: AbstractBaseUser, *, reason: str) -> str:
    """Return a message's full number and write who looked, when and why (AuditEntry)."""
    AuditEntry.objects.create(
        actor_id=actor.pk,
        organiser_id=sms.organiser_id,
        action=AuditEntry.Action.REVEAL_PHONE,
        sms=sms,
        event_id=sms.event_id,
        phone_hash=sms.to_hash,
        reason=reason[:200],
    )
    return sms.to


def event_ledger(event: Event) -> QuerySet[SmsMessage]:
    """Return the event's messages, newest first, with what the ledger page shows."""
    return SmsMessage.objects.for_event(event).select_related("requested_by")


def number_hash(phone: str) -> str:
    """Return the keyed hash of any valid number; phones.InvalidPhone otherwise."""
    return phones.phone_hash(phones.normalise_phone(phone, allowed_countries=phones.ALL_COUNTRIES))


def messages_for_number(organiser: Organiser, phone: str) -> QuerySet[SmsMessage]:
    """Return the organiser's messages to ``phone`` (any valid E.164 number), by keyed hash."""
    return SmsMessage.objects.for_organiser(organiser).filter(to_hash=number_hash(phone))


def erase_number(organiser: Organiser, phone: str, actor: AbstractBaseUser | None) -> int:
    """Erase a guest's number from every message of ``organiser`` (never another's).

    The number is blanked (its keyed hash stays, so a repeat request still finds
    nothing to do and caps still count) and one audit entry records the hash only.
    Returns how many messages held the number.
    """
    to_hash = number_hash(phone)
    with transaction.atomic():
        messages = SmsMessage.objects.for_organiser(organiser).filter(to_hash=to_hash)
        count = messages.exclude(to="").update(to="")
        AuditEntry.objects.create(
            actor_id=actor.pk if actor else None,
            organiser=organiser,
            action=AuditEntry.Action.ERASE_NUMBER,
            phone_hash=to_hash,
            detail={"messages": count},
        )
    return count


def retention_cutoff(event: Event) -> dt.datetime:
    """When the event's personal data expires: its end (or start) plus its retention days."""
    return (event.ends_at or event.starts_at) + dt.timedelta(days=event.retention_days)


def purge_expired_personal_data(now: dt.datetime | None = None) -> list[Event]:
    """Erase phone numbers (and, where the event says so, photos) past their retention.

    Idempotent: an event already purged has nothing left to change and gets no second
    audit entry. Photo files are deleted after the rows' transaction commits. Returns
    the events purged now.
    """
    now = now or timezone.now()
    purged = []
    for event in Event.objects.select_related("organiser"):
        if retention_cutoff(event) > now:
            continue
        if _purge_event(event):
            purged.append(event)
    return purged


def _delete_files(names: list[str]) -> None:
    for name in names:
        delete_quietly(name)


def _purge_event(event: Event) -> bool:
    with transaction.atomic():
        numbers = SmsMessage.objects.filter(event=event).exclude(to="").update(to="")
        files: list[str] = []
        photos = 0
        if event.retention_purges_photos:
            captures: Iterable[Capture] = Capture.objects.for_event(event).prefetch_related(
                "variants"
            )
            for capture in captures:
                files += [capture.image.name, capture.thumbnail.name]
                files += [
                    n for v in capture.variants.all() for n in (v.image.name, v.thumbnail.name)
                ]
            files += [n for s in event.strips.all() for n in (s.image.name, s.thumbnail.name)]
            photos = Capture.objects.for_event(event).count()
            Capture.objects.for_event(event).delete()
            event.strips.all().delete()
        if not numbers and not photos:
            return False
        AuditEntry.objects.create(
            organiser=event.organiser,
            event=event,
            action=AuditEntry.Action.RETENTION_PURGE,
            detail={"numbers": numbers, "photos": photos},
        )
        transaction.on_commit(lambda: _delete_files(files))
    return True
