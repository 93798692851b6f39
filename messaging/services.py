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
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from email.mime.image import MIMEImage
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives, mail_admins, send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from boothsite.celery import enqueue_on_commit
from captures import services as capture_services
from captures.models import BoothSession, Capture, RenderStatus, Strip
from captures.storage import delete_quietly
from events import tokens, webhooks
from events.access import retention_cutoff
from events.exceptions import DomainError
from events.models import Booth, Event, Membership, Organiser
from events.roles import Role
from messaging import credentials, emails, gateway, phones, ratelimit
from messaging.exceptions import (
    EmailLimitReached,
    EmailPaused,
    EmailUnavailable,
    SendLater,
    SmsLimitReached,
    SmsPaused,
    SmsUnavailable,
    TransientEmailError,
)
from messaging.models import (
    PLATFORM_ACCOUNT,
    AuditEntry,
    DeliveryReceipt,
    EmailMessage,
    SendingPause,
    SmsAccount,
    SmsMessage,
)

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
    return compose_share_text(session.event, session.share_url())


#: The only placeholder of an event's SMS text.
LINK_PLACEHOLDER = "{link}"


def compose_share_text(event: Event, link: str, template: str | None = None) -> str:
    """Return the SMS text ``render_share_text`` sends for ``link``.

    ``template`` stands in for the event's ``sms_template`` (the console's preview of a
    text not saved yet). A template replaces each ``{link}`` with ``link`` (or ends with
    it when it has none), turns control characters into spaces and collapses runs of
    whitespace into one space; an empty one gives the default text,
    ``templates/messaging/sms/share_link.txt`` with the event's name (60 characters at
    most). ``static/console-sms.js`` renders its live preview by the same rules.
    """
    template = event.sms_template if template is None else template
    if template:
        template = CONTROL_CHARACTERS.sub(" ", template)
        text = (
            template.replace(LINK_PLACEHOLDER, link)
            if LINK_PLACEHOLDER in template
            else f"{template} {link}"
        )
        return " ".join(text.split())
    return render_to_string(
        "messaging/sms/share_link.txt",
        {"event_name": CONTROL_CHARACTERS.sub(" ", event.name)[:MAX_EVENT_NAME], "link": link},
    ).strip()


def example_share_link() -> str:
    """Return a guest link as long as a real one (``SITE_URL``, the token's length).

    For previews and segment counts: its token is made of ``x``, so it opens nothing.
    """
    length = len(tokens.link_token())
    return f"{settings.SITE_URL}{reverse('captures:share', args=['x' * length])}"


def live_sms_account(organiser: Organiser | int) -> SmsAccount | None:
    """Return the organiser's own SMS account in use, or None (the platform's sends)."""
    return SmsAccount.objects.live().filter(organiser=organiser).first()


def active_pause(event: Event) -> SendingPause | None:
    """Return the pause that stops the event's sending, if any.

    The event's own pause (the pumping breaker), or that of the account it sends
    through: the organiser's own account when it has one live, else the platform's.
    """
    return _active_pause(event, live_sms_account(event.organiser_id))


def _active_pause(event: Event, account: SmsAccount | None) -> SendingPause | None:
    account_scope = (
        Q(event__isnull=True, organiser_id=event.organiser_id)
        if account is not None
        else Q(event__isnull=True, organiser__isnull=True)
    )
    return SendingPause.objects.active().filter(account_scope | Q(event=event)).first()


def queue_share_sms(booth: Booth, session: BoothSession, phone: object) -> SmsMessage:
    """Validate ``phone``, apply every limit, and queue an SMS with the session's link.

    Raises phones.InvalidPhone (400) for an invalid, SMS-incapable or not-allowed number;
    SmsUnavailable (409) for a session of an archived event (its link would answer 404)
    or with nothing to share; SmsLimitReached (429, with ``retry_after``) when a
    per-number, per-booth, per-event or per-organiser cap is reached; SmsPaused (503)
    while sending is paused, or when this request trips the pumping breaker (the pause
    is committed and its alert sent after the commit, by a task).

    The message is created queued, with its first ``enqueue_attempts`` and
    ``enqueued_at``: that row is the record that a send is due. The task
    ``messaging.tasks.send_sms_message`` is queued on commit; if the broker cannot take
    it, ``sweep_queued_sms`` queues it again.
    """
    event = session.event
    _check_not_archived(event)
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
        refusal = _cap_refusal(organiser, event, booth, to_hash, now)
        if refusal is not None:
            # Nothing is written: the transaction commits, and the notice goes after it.
            _queue_cap_notice(refusal)
        elif _prefix_burst(event, to, now):
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
                enqueue_attempts=1,
                enqueued_at=now,
            )
            _enqueue_send(SmsMessage, sms.pk)
            return sms
    if refusal is not None:
        raise refusal.error
    raise SmsPaused(PAUSED_MESSAGE)


ARCHIVED_MESSAGE = "This event is archived: its photos can no longer be shared by SMS."


def _check_not_archived(event: Event) -> None:
    if event.archived_at is not None:
        raise SmsUnavailable(ARCHIVED_MESSAGE)


#: An outgoing message row: both kinds share the queued status and its enqueue record.
Outgoing = TypeVar("Outgoing", SmsMessage, EmailMessage)

#: The Celery task that sends each kind of message (one argument: the row's pk).
SEND_TASKS: dict[type[SmsMessage] | type[EmailMessage], str] = {
    SmsMessage: "messaging.tasks.send_sms_message",
    EmailMessage: "messaging.tasks.send_email_message",
}


def _unqueued(model: type[Outgoing], pk: int) -> Callable[[], int]:
    """Return a hook that marks a queued row of ``model`` never queued (for the next sweep)."""

    def mark() -> int:
        return model.objects.filter(pk=pk, status="queued").update(enqueued_at=None)

    return mark


def _enqueue_send(model: type[Outgoing], pk: int) -> None:
    """Queue the send task of one row after the commit; a publish that fails unmarks it."""
    enqueue_on_commit(SEND_TASKS[model], pk, on_unsent=_unqueued(model, pk))


def _queue_again(model: type[Outgoing], ids: list[int], now: dt.datetime) -> None:
    """Give rows a fresh count of queueings (1, due ``now``) and queue their send tasks."""
    model.objects.filter(pk__in=ids).update(enqueue_attempts=1, enqueued_at=now)
    for pk in ids:
        _enqueue_send(model, pk)


def precheck_share(booth: Booth, event: Event, phone: object) -> str:
    """Raise what ``queue_share_sms`` would raise for ``phone`` now; return it as E.164.

    Lets an endpoint refuse before it stores anything; ``queue_share_sms`` checks again
    under the lock, which is what makes the caps exact.
    """
    to = phones.normalise_phone(phone, allowed_countries=allowed_countries(event))
    if active_pause(event) is not None:
        raise SmsPaused(PAUSED_MESSAGE)
    refusal = _cap_refusal(event.organiser, event, booth, phones.phone_hash(to), timezone.now())
    if refusal is not None:
        _queue_cap_notice(refusal)
        raise refusal.error
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


@dataclass(frozen=True)
class CapRefusal:
    """A cap that refuses a message: the error to raise and the owners' notice it is due.

    ``notice`` holds the arguments of ``messaging.tasks.send_cap_notice`` (ids only:
    ``(organiser_id, event_id)`` for the event's daily cap, ``(organiser_id,)`` for the
    monthly one), or is empty when no notice is due (other caps, or already sent).
    """

    error: DomainError
    notice: tuple[int, ...] = ()


@dataclass(frozen=True)
class Cap:
    """One sending cap, for SMS or email: at most ``limit`` of the rows ``counted``.

    ``counted`` is a lazy queryset of the messages that count (already narrowed to the
    cap's period), so a cap after the first one reached costs no query. ``message`` is
    the refusal the guest sees. The refusal's ``retry_after`` (seconds) is ``retry_after``
    when given, else the time until the oldest counted row leaves ``window`` (a rolling
    period), else none (a cap that never frees up, such as one session's). ``notice_key``
    and ``notice_ids`` name the owners' notice due the first time it is reached in its
    period (``_notice_once``); empty for none.
    """

    counted: QuerySet[Any]
    limit: int
    message: str
    retry_after: int | None = None
    window: dt.timedelta | None = None
    notice_key: str = ""
    notice_ids: tuple[int, ...] = ()


def first_cap_reached(
    caps: Iterable[Cap], now: dt.datetime, error: type[DomainError] = SmsLimitReached
) -> CapRefusal | None:
    """Return the refusal of the first cap in ``caps`` that is reached, or None.

    Caps are counted in order, one query each, and counting stops at the first one
    reached. The caller holds the row lock that makes the counts exact (RELIABILITY 7).
    ``error`` is the exception the refusal raises (429: ``SmsLimitReached``, or
    ``EmailLimitReached``).
    """
    for cap in caps:
        if cap.counted.count() < cap.limit:
            continue
        retry_after = cap.retry_after
        if retry_after is None and cap.window is not None:
            oldest = cap.counted.order_by("created_at").values_list("created_at", flat=True)[0]
            retry_after = int((oldest + cap.window - now).total_seconds()) + 1
        notice = _notice_once(cap.notice_key, cap.notice_ids) if cap.notice_key else ()
        return CapRefusal(error(cap.message, retry_after=retry_after), notice)
    return None


def _cap_refusal(
    organiser: Organiser, event: Event, booth: Booth, to_hash: str, now: dt.datetime
) -> CapRefusal | None:
    day = now - dt.timedelta(days=1)
    minute = now - dt.timedelta(minutes=1)
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    sms = SmsMessage.objects
    caps = [
        Cap(
            sms.filter(event=event, to_hash=to_hash, created_at__gte=day),
            settings.BOOTHSITE_SMS_PER_NUMBER_PER_DAY,
            "Too many messages to this number. Try again later.",
            window=dt.timedelta(days=1),
        ),
        Cap(
            sms.filter(requested_by=booth, created_at__gte=minute),
            settings.BOOTHSITE_SMS_PER_BOOTH_PER_MINUTE,
            "This booth is sending too many messages. Try again in a minute.",
            retry_after=60,
        ),
        Cap(
            sms.filter(event=event, created_at__gte=day),
            settings.BOOTHSITE_SMS_PER_EVENT_PER_DAY,
            "SMS quota for this event reached.",
            retry_after=3600,
            notice_key=f"event-day:{event.pk}:{now:%Y%m%d}",
            notice_ids=(organiser.pk, event.pk),
        ),
        Cap(
            sms.filter(organiser=organiser, created_at__gte=month_start),
            settings.BOOTHSITE_SMS_PER_ORGANISER_PER_MONTH,
            "SMS quota for this organiser reached.",
            retry_after=86400,
            notice_key=f"org-month:{organiser.pk}:{now:%Y%m}",
            notice_ids=(organiser.pk,),
        ),
    ]
    return first_cap_reached(caps, now)


def _notice_once(key: str, ids: tuple[int, ...]) -> tuple[int, ...]:
    """Return ``ids`` the first time a cap is reached in its period (``key``), else ()."""
    return ids if cache.add(f"sms-cap-notice:{key}", 1, timeout=32 * 86400) else ()


def _queue_cap_notice(refusal: CapRefusal) -> None:
    """Queue the owners' notice of ``refusal``, if due, after the current commit."""
    if refusal.notice:
        logger.warning("SMS cap reached for organiser %s.", refusal.notice[0])
        enqueue_on_commit("messaging.tasks.send_cap_notice", *refusal.notice)


def send_cap_notice(organiser: Organiser, event: Event | None = None) -> bool:
    """E-mail the organiser's owners that a cap was reached; return whether it was sent.

    ``event`` names the event whose daily cap it is; without it, the monthly cap. Run
    by the task ``messaging.tasks.send_cap_notice`` after the commit. A mail server that
    is down or refuses is logged (a warning) and never raised: the notice is a courtesy,
    and the refusal it reports stands.
    """
    what = f"event {event.name}" if event is not None else "this month"
    owners = organiser.memberships.filter(role=Role.OWNER).select_related("user")
    recipients = [m.user.email for m in owners if m.user.email]
    if not recipients:
        return False
    try:
        send_mail(
            f"Boothsite: SMS limit reached ({what})",
            f"Guests of {organiser.name} can no longer get their link by SMS ({what}). "
            "QR codes and gallery links still work.",
            None,
            recipients,
        )
    except Exception as exc:
        logger.warning(
            "SMS cap notice for organiser %s not sent (%s).", organiser.pk, type(exc).__name__
        )
        return False
    return True


def _prefix_burst(event: Event, to: str, now: dt.datetime) -> bool:
    """Whether this message would be one too many to the number's prefix (RELIABILITY 9)."""
    recent = SmsMessage.objects.filter(
        event=event, to__startswith=to[:-4], created_at__gte=now - PREFIX_WINDOW
    ).count()
    return recent + 1 >= settings.BOOTHSITE_SMS_PREFIX_BURST


def pause_event(event: Event, *, reason: str) -> SendingPause:
    """Pause the event's SMS, cancel what is queued for it, and alert the platform staff.

    The alert (``send_pause_alert``) is queued after the commit, so a mail server that
    is down can neither fail the request nor undo the pause (issue 11.5).
    """
    pause = SendingPause.objects.create(event=event, reason=reason)
    cancelled = SmsMessage.objects.filter(event=event, status=SmsMessage.Status.QUEUED).update(
        status=SmsMessage.Status.CANCELLED, final_at=timezone.now(), error_code="paused"
    )
    logger.error("SMS paused for event %s: %s (%d cancelled).", event.public_id, reason, cancelled)
    enqueue_on_commit("messaging.tasks.send_pause_alert", pause.pk)
    return pause


def pause_account(
    result: gateway.GatewayResult, *, organiser: Organiser | None = None
) -> SendingPause:
    """Stop an account's sending after a provider answer that concerns the whole account.

    The platform's account by default, which stops every organiser that sends through
    it; with ``organiser``, that organiser's own account, which stops its messages only.
    Returns the account's active pause when it has one already. The alert (the staff
    for the platform's account, the organiser's owners for their own) is queued after
    the commit (at once outside a transaction, as in the send task), and a failed alert
    is only logged: the pause stands and the task that found it ends normally.
    """
    existing = SendingPause.objects.active().filter(event__isnull=True, organiser=organiser).first()
    if existing is not None:
        return existing
    pause = SendingPause.objects.create(
        organiser=organiser,
        reason=(result.error_text or "The SMS provider refused the account.")[:200],
        error_code=result.error_code[:16],
    )
    if organiser is None:
        logger.error("SMS sending paused for the platform account: %s", pause.reason)
    else:
        logger.error("SMS paused for the own account of organiser %s.", organiser.public_id)
    enqueue_on_commit("messaging.tasks.send_pause_alert", pause.pk)
    return pause


def send_pause_alert(pause: SendingPause) -> bool:
    """E-mail ``ADMINS`` that sending paused (an event's, or the account's).

    Run by the task ``messaging.tasks.send_pause_alert`` after the pause is committed.
    The mail names the event by its public id, never a guest's number. Returns whether
    it was sent: a mail server that is unreachable, slow (``EMAIL_TIMEOUT``) or refusing
    is logged as a warning and never raised. A pause is alerted once: a task delivered
    again after a sent alert sends nothing (a cache key, kept 7 days).
    """
    sent_key = f"sms-pause-alert:{pause.pk}"
    if cache.get(sent_key):
        return False
    if pause.organiser_id is not None and pause.event_id is None:
        return _send_own_account_alert(pause, pause.organiser_id, sent_key)
    if pause.event_id is not None:
        event_id = Event.objects.filter(pk=pause.event_id).values_list("public_id", flat=True)
        subject = f"SMS paused for an event: {pause.reason}"
        body = f"Event {event_id.first()}: {pause.reason}"
    else:
        subject = "SMS sending paused"
        body = f"{pause.reason} Lift the pause in the admin once fixed."
    try:
        mail_admins(subject, body)
    except Exception as exc:
        logger.warning("Alert for SMS pause %s not sent (%s).", pause.pk, type(exc).__name__)
        return False
    cache.set(sent_key, 1, timeout=7 * 86400)
    return True


def _send_own_account_alert(pause: SendingPause, organiser_id: int, sent_key: str) -> bool:
    """E-mail the owners of an organiser whose own account is paused (once; never raises)."""
    owners = Membership.objects.filter(organiser_id=organiser_id, role=Role.OWNER)
    recipients = [m.user.email for m in owners.select_related("user") if m.user.email]
    if not recipients:
        return False
    try:
        send_mail(
            "Boothsite: SMS paused for your Vonage account",
            f"{pause.reason} Your guests' SMS wait until the SMS account is saved again in "
            "the console (SMS account page); QR codes and gallery links still work.",
            None,
            recipients,
        )
    except Exception as exc:
        logger.warning("Alert for SMS pause %s not sent (%s).", pause.pk, type(exc).__name__)
        return False
    cache.set(sent_key, 1, timeout=7 * 86400)
    return True


def lift_pause(pause: SendingPause) -> int:
    """Lift a pause and queue again the messages it held back; return how many.

    SMS: those of its event, of its organiser (a pause of the organiser's own account)
    or every queued SMS (the platform's account). Emails: those of its event, for an
    event's pause only; account pauses concern the SMS provider and never hold emails.
    Each starts a fresh count of queueings (``enqueue_attempts`` 1, due now); the send
    tasks check for pauses again.
    """
    now = timezone.now()
    with transaction.atomic():
        SendingPause.objects.filter(pk=pause.pk).update(lifted_at=now)
        waiting = SmsMessage.objects.filter(status=SmsMessage.Status.QUEUED)
        held_emails: list[int] = []
        if pause.event_id:
            waiting = waiting.filter(event_id=pause.event_id)
            held_emails = list(
                EmailMessage.objects.filter(
                    event_id=pause.event_id, status=EmailMessage.Status.QUEUED
                ).values_list("pk", flat=True)
            )
        elif pause.organiser_id:
            waiting = waiting.filter(organiser_id=pause.organiser_id)
        ids = list(waiting.values_list("pk", flat=True))
        _queue_again(SmsMessage, ids, now)
        _queue_again(EmailMessage, held_emails, now)
    return len(ids) + len(held_emails)


def callback_url(sms: SmsMessage) -> str:
    """Return the delivery-receipt webhook URL of one message (opaque token, no PII)."""
    return f"{settings.SITE_URL}{reverse('messaging:dlr', args=[sms.callback_token])}"


def send_sms_message(sms: SmsMessage) -> SmsMessage:
    """Send a queued message once and record the outcome.

    It goes through the organiser's own account when one is live (its decrypted
    credentials), else through the platform's; the claim records which in
    ``SmsMessage.account``. Does nothing while the event or that account is paused
    (the message stays queued) and raises SendLater when the global send rate is used
    up. Credentials that no key decrypts any more pause the organiser's account. The
    row is then claimed with a conditional UPDATE (queued → sending), so a task that
    runs twice, or is redelivered after its worker died, never sends twice. Raises
    gateway.TransientGatewayError after putting the message back in the queue when the
    provider asks to retry; an answer that concerns the account pauses that account.
    """
    account = live_sms_account(sms.organiser_id)
    if _active_pause(sms.event, account) is not None:
        return sms
    own: gateway.VonageCredentials | None = None
    if account is not None:
        try:
            own = _decrypted(account)
        except credentials.UnreadableCredentials:
            pause_account(UNREADABLE_RESULT, organiser=account.organiser)
            return sms
    wait = ratelimit.seconds_until_slot(settings.BOOTHSITE_SMS_SEND_RATE)
    if wait:
        raise SendLater(wait)
    claimed = SmsMessage.objects.filter(pk=sms.pk, status=SmsMessage.Status.QUEUED).update(
        status=SmsMessage.Status.SENDING,
        attempts=sms.attempts + 1,
        account=account_label(account),
    )
    if not claimed:
        sms.refresh_from_db()
        return sms
    result = gateway.get_gateway(own).send_sms(
        sms.to, sms.body, client_ref=sms.client_ref, callback_url=callback_url(sms)
    )
    _record_result(sms, result)
    sms.refresh_from_db()
    webhooks.sms_status(sms)
    logger.info("SMS %s is %s (%s).", sms.public_id, sms.status, result.gateway)
    if result.outcome in {"retry", "retry_bounded"}:
        attempts = BOUNDED_ATTEMPTS if result.outcome == "retry_bounded" else MAX_ATTEMPTS
        raise gateway.TransientGatewayError(result.error_code, max_attempts=attempts)
    if result.outcome == "halt":
        pause_account(result, organiser=account.organiser if account is not None else None)
    return sms


#: The pause of an organiser's own account whose credentials no key decrypts.
UNREADABLE_RESULT = gateway.GatewayResult(
    "halt",
    "vonage",
    error_code="unreadable",
    error_text="The saved Vonage credentials can no longer be read (the site's "
    "BOOTHSITE_CREDENTIALS_KEY changed): enter them again on the SMS account page.",
)


def account_label(account: SmsAccount | None) -> str:
    """Return ``SmsMessage.account`` for a send through ``account`` (None: the platform's)."""
    return PLATFORM_ACCOUNT if account is None else str(account.public_id)


def _decrypted(account: SmsAccount) -> gateway.VonageCredentials:
    """Return the account's credentials in clear; credentials.UnreadableCredentials if not."""
    return gateway.VonageCredentials(
        api_key=credentials.decrypt(account.api_key_encrypted),
        api_secret=credentials.decrypt(account.api_secret_encrypted),
        sender=account.sender,
    )


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


def note_retry(message: SmsMessage | EmailMessage, countdown: float) -> None:
    """Record that the send task of an SMS or email will run again in ``countdown`` s.

    ``enqueued_at`` is then the retry's due time, so the sweeper leaves the message to
    its own retry and steps in only if that retry is lost as well.
    """
    due = timezone.now() + dt.timedelta(seconds=countdown)
    type(message).objects.filter(pk=message.pk).update(enqueued_at=due)


#: The ``error_code`` of a message the sweeper gave up on (queued its allowed number of
#: times, ``BOOTHSITE_SMS_MAX_ENQUEUES``, and never sent).
NOT_SENT = "not_sent"
#: Messages one sweep looks at, at most: the rest wait for the next sweep.
SMS_SWEEP_BATCH = 200


@dataclass(frozen=True)
class SmsSweep:
    """What one ``sweep_queued_sms`` did: messages queued again, and given up on."""

    queued: int
    given_up: int


def sweep_queued_sms(now: dt.datetime | None = None) -> SmsSweep:
    """Queue again the SMS whose send task was lost; give up on those out of tries.

    A message is due when it is queued and its task was queued (or its retry was due)
    more than ``BOOTHSITE_SWEEP_AFTER_SECONDS`` ago, or never (rows from before this
    record). That means the task never reached a worker: the broker was down or silent
    at the commit. Paused messages are never due: nothing that would go through a paused
    account (the platform's, or an organiser's own), nothing of an event that is paused
    (``lift_pause`` queues those). A due message with tries
    left (``enqueue_attempts < BOOTHSITE_SMS_MAX_ENQUEUES``) gets one more and its task
    is queued after the commit; one without ends failed with ``error_code``
    ``NOT_SENT``. Claimed with ``SELECT … FOR UPDATE SKIP LOCKED``, at most
    ``SMS_SWEEP_BATCH`` per run, so two sweeps at once never queue one message twice;
    the send task's claim (queued → sending) makes a second task harmless anyway.
    """
    now = now or timezone.now()
    active = SendingPause.objects.active()
    own_accounts = SmsAccount.objects.live().values("organiser_id")
    queued = SmsMessage.objects.filter(status=SmsMessage.Status.QUEUED)
    if active.filter(event__isnull=True, organiser__isnull=True).exists():
        queued = queued.filter(organiser_id__in=own_accounts)  # the platform's is paused
    paused_own = active.filter(event__isnull=True, organiser_id__in=own_accounts)
    queued = queued.exclude(
        event_id__in=active.filter(event__isnull=False).values("event_id")
    ).exclude(organiser_id__in=paused_own.values("organiser_id"))
    return _sweep_due(
        queued,
        now,
        limit=settings.BOOTHSITE_SMS_MAX_ENQUEUES,
        given_up_fields={
            "status": SmsMessage.Status.FAILED,
            "final_at": now,
            "error_code": NOT_SENT,
            "error_text": "Never reached the SMS provider: the task queue was unavailable.",
        },
    )


def _sweep_due(
    queued: QuerySet[Outgoing],
    now: dt.datetime,
    *,
    limit: int,
    given_up_fields: dict[str, object],
) -> SmsSweep:
    """Queue again the due rows of ``queued`` (queued, not paused); give up on the rest.

    Due: never queued (``enqueued_at`` empty) or queued (or its retry due) more than
    ``BOOTHSITE_SWEEP_AFTER_SECONDS`` before ``now``. A due row with fewer than
    ``limit`` queueings gets one more and its send task after the commit; one without
    gets ``given_up_fields`` (if still queued). Rows are claimed with ``SELECT … FOR
    UPDATE SKIP LOCKED``, at most ``SMS_SWEEP_BATCH`` per run.
    """
    model = queued.model
    cutoff = now - dt.timedelta(seconds=settings.BOOTHSITE_SWEEP_AFTER_SECONDS)
    with transaction.atomic():
        due = list(
            queued.select_for_update(skip_locked=True)
            .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=cutoff))
            .order_by("pk")
            .values_list("pk", "enqueue_attempts")[:SMS_SWEEP_BATCH]
        )
        again = [pk for pk, tries in due if tries < limit]
        out = [pk for pk, tries in due if tries >= limit]
        model.objects.filter(pk__in=again).update(
            enqueue_attempts=F("enqueue_attempts") + 1, enqueued_at=now
        )
        given_up = model.objects.filter(pk__in=out, status="queued").update(**given_up_fields)
        for pk in again:
            _enqueue_send(model, pk)
    if again or given_up:
        logger.info(
            "%s sweep: %d queued again, %d given up.",
            model._meta.verbose_name,
            len(again),
            given_up,
        )
    return SmsSweep(queued=len(again), given_up=given_up)


#: Times the sweeper queues a share email's send task before it marks it failed.
EMAIL_MAX_ENQUEUES = 5


def sweep_queued_email(now: dt.datetime | None = None) -> SmsSweep:
    """Queue again the share emails whose send task was lost; give up on those out of tries.

    The same rule as ``sweep_queued_sms`` (due after ``BOOTHSITE_SWEEP_AFTER_SECONDS``,
    or at once when the publish failed; ``SKIP LOCKED``; batches of ``SMS_SWEEP_BATCH``),
    with ``EMAIL_MAX_ENQUEUES`` tries. Emails of an event whose sending is paused are
    left queued (``lift_pause`` queues them); an account's pause (the SMS provider's)
    never holds an email. One out of tries ends failed with a plain ``error_text``.
    """
    now = now or timezone.now()
    paused_events = SendingPause.objects.active().filter(event__isnull=False)
    queued = EmailMessage.objects.filter(status=EmailMessage.Status.QUEUED).exclude(
        event_id__in=paused_events.values("event_id")
    )
    return _sweep_due(
        queued,
        now,
        limit=EMAIL_MAX_ENQUEUES,
        given_up_fields={
            "status": EmailMessage.Status.FAILED,
            "error_text": "Never reached the mail server: the task queue was unavailable.",
        },
    )


def expire_stale_sending() -> int:
    """Mark SMS and emails stuck in "sending" (their worker died mid-send) as unknown.

    They are never sent again: the provider or the mail server may have taken them.
    An SMS is stale ``STALE_SENDING`` after it was created (a later delivery receipt
    still settles it); an email ``STALE_SENDING`` after its send began (``claimed_at``;
    a row from before that record, by ``created_at``). Returns how many were marked.
    """
    cutoff = timezone.now() - STALE_SENDING
    sms = SmsMessage.objects.filter(status=SmsMessage.Status.SENDING, created_at__lt=cutoff).update(
        status=SmsMessage.Status.UNKNOWN, error_code="dropped"
    )
    began = Q(claimed_at__lt=cutoff) | Q(claimed_at__isnull=True, created_at__lt=cutoff)
    email = EmailMessage.objects.filter(began, status=EmailMessage.Status.SENDING).update(
        status=EmailMessage.Status.UNKNOWN,
        error_text="The send was interrupted: the mail server may or may not have it.",
    )
    if email:
        logger.warning("%d email(s) stuck sending marked unknown.", email)
    return sms + email


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
    receipt's ``messageId`` fills in a message whose send outcome was unknown, and its
    ``price`` (Vonage's charge for the message, in the account's currency) and
    ``network-code`` (the carrier's MCC+MNC) are written to the ledger.
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
                if sms.status not in SmsMessage.FINAL_STATUSES:
                    webhooks.sms_status(sms)  # on commit, with the status then
                SmsMessage.objects.filter(pk=sms.pk).exclude(
                    status__in=SmsMessage.FINAL_STATUSES
                ).update(status=new_status, final_at=timezone.now(), error_code=err_code)
            message_id = params.get("messageId", "")[:64]
            if message_id:
                SmsMessage.objects.filter(pk=sms.pk, provider_message_id="").update(
                    provider_message_id=message_id
                )
            ledger = _receipt_ledger_fields(params)
            if ledger:
                SmsMessage.objects.filter(pk=sms.pk).update(**ledger)
    except IntegrityError:
        logger.info("Duplicate delivery receipt for SMS %s ignored.", sms.public_id)
    sms.refresh_from_db()
    return sms


#: The largest price the ledger holds: ``SmsMessage.price`` is 10 digits, 5 decimals.
MAX_PRICE = Decimal("99999.99999")
NETWORK_CODE = re.compile(r"[0-9]{1,32}")


def _receipt_ledger_fields(params: dict[str, str]) -> dict[str, object]:
    """Return the ledger fields a receipt sets: ``price`` and ``network``, when valid.

    ``price`` ("0.03330000") must be a finite decimal from 0 to ``MAX_PRICE``; it is
    rounded to 5 places. ``network-code`` ("23410") is kept when it is 1 to 32 digits.
    Anything else is ignored: a receipt is never refused for its price.
    """
    fields: dict[str, object] = {}
    try:
        price = Decimal(params.get("price", ""))
    except InvalidOperation:
        price = None
    if price is not None and price.is_finite() and 0 <= price <= MAX_PRICE:
        fields["price"] = price.quantize(Decimal("0.00001"))
    network = params.get("network-code", "")
    if NETWORK_CODE.fullmatch(network):
        fields["network"] = network
    return fields


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


def purge_expired_personal_data(now: dt.datetime | None = None) -> list[Event]:
    """Erase phone numbers, email addresses (and, where set, photos) past their retention.

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
        addresses = erase_event_emails(event, timezone.now())
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
        if not numbers and not addresses and not photos:
            return False
        AuditEntry.objects.create(
            organiser=event.organiser,
            event=event,
            action=AuditEntry.Action.RETENTION_PURGE,
            detail={"numbers": numbers, "emails": addresses, "photos": photos},
        )
        transaction.on_commit(lambda: _delete_files(files))
    return True


# ---- The console's SMS account and an event's SMS settings (issue 13) ----


@dataclass(frozen=True)
class SmsAccountSaved:
    """What ``set_own_sms_account`` did: the live account (None when refused) and Vonage's word.

    ``resumed`` counts the messages queued again because the save lifted a pause of the
    organiser's own account.
    """

    account: SmsAccount | None
    check: gateway.CredentialsCheck
    resumed: int = 0


def set_own_sms_account(
    organiser: Organiser,
    actor: AbstractBaseUser | None,
    *,
    api_key: str,
    api_secret: str,
    sender: str,
) -> SmsAccountSaved:
    """Check new Vonage credentials, then store them encrypted as the organiser's account.

    Vonage is asked first (``gateway.check_credentials``, the account's balance): when
    it refuses them nothing is stored and ``account`` is None. Accepted or unchecked
    (the console gateway, Vonage unreachable) they replace the live account, under a
    lock on the organiser: the old row is retired and its encrypted values wiped, the
    new one records ``verified_at`` when Vonage accepted them. A pause of the
    organiser's own account is lifted and what it held back queued again after the
    commit. The secret is never logged, returned or shown.
    """
    check = gateway.check_credentials(
        gateway.VonageCredentials(api_key=api_key, api_secret=api_secret, sender=sender)
    )
    if check.outcome == "refused":
        return SmsAccountSaved(account=None, check=check)
    now = timezone.now()
    with transaction.atomic():
        Organiser.objects.select_for_update().filter(pk=organiser.pk).first()
        _retire_accounts(organiser, now)
        account = SmsAccount.objects.create(
            organiser=organiser,
            api_key_encrypted=credentials.encrypt(api_key),
            api_secret_encrypted=credentials.encrypt(api_secret),
            key_ending=api_key[-4:],
            sender=sender,
            verified_at=now if check.outcome == "accepted" else None,
            created_by_id=actor.pk if actor is not None else None,
        )
        resumed = _lift_own_account_pauses(organiser)
    logger.info("Organiser %s now sends SMS through its own account.", organiser.public_id)
    return SmsAccountSaved(account=account, check=check, resumed=resumed)


def set_sms_sender(organiser: Organiser, sender: str) -> SmsAccount | None:
    """Change the sender of the organiser's live own account; None when it has none."""
    account = live_sms_account(organiser)
    if account is not None:
        account.sender = sender
        account.save(update_fields=["sender"])
    return account


def use_platform_sms_account(organiser: Organiser) -> int:
    """Send the organiser's SMS through the platform's account again.

    Retires the live own account (wiping its encrypted credentials) and lifts a pause
    of it, queueing again what it held back. Returns how many messages were queued again.
    """
    with transaction.atomic():
        Organiser.objects.select_for_update().filter(pk=organiser.pk).first()
        _retire_accounts(organiser, timezone.now())
        resumed = _lift_own_account_pauses(organiser)
    logger.info("Organiser %s now sends SMS through the platform account.", organiser.public_id)
    return resumed


def _retire_accounts(organiser: Organiser, now: dt.datetime) -> int:
    return (
        SmsAccount.objects.for_organiser(organiser)
        .live()
        .update(retired_at=now, api_key_encrypted="", api_secret_encrypted="")
    )


def _lift_own_account_pauses(organiser: Organiser) -> int:
    pauses = SendingPause.objects.active().filter(event__isnull=True, organiser=organiser)
    return sum(lift_pause(pause) for pause in pauses)


def own_account_pause(organiser: Organiser) -> SendingPause | None:
    """Return the active pause of the organiser's own account, if any."""
    return SendingPause.objects.active().filter(event__isnull=True, organiser=organiser).first()


def sms_account_labels(values: Iterable[str]) -> dict[str, str]:
    """Return a label for each ``SmsMessage.account`` value in ``values``, in one query.

    ``platform`` is "Platform account"; an own account's public id is "Own account
    ending 1234" (its key's last four characters); "" is "Not sent yet".
    """
    ids = {value for value in values if value and value != PLATFORM_ACCOUNT}
    labels = {"": "Not sent yet", PLATFORM_ACCOUNT: "Platform account"}
    valid = []
    for value in ids:
        try:
            valid.append(uuid.UUID(value))
        except ValueError:
            labels[value] = value
    for public_id, ending in SmsAccount.objects.filter(public_id__in=valid).values_list(
        "public_id", "key_ending"
    ):
        labels[str(public_id)] = f"Own account ending {ending}"
    return labels


def update_event_sms_settings(event: Event, *, sms_template: str, countries: list[str]) -> Event:
    """Store the event's SMS text and the countries its guests may be texted in.

    The caller validates (``messaging.forms.EventSmsSettingsForm``: the link
    placeholder, at most ``segments.MAX_SEGMENTS`` segments, countries of the
    platform's ``BOOTHSITE_SMS_COUNTRIES``). Only those two fields are written.
    """
    event.sms_template = sms_template
    event.sms_allowed_countries = [code.upper() for code in countries]
    event.save(update_fields=["sms_template", "sms_allowed_countries"])
    return event


# ---- Share by email (issue 14.5) ----

#: The ``Content-ID`` of the strip inlined in a share email (``<img src="cid:…">``).
STRIP_CID = "strip@boothsite"
#: Tries in all before an email is marked failed (the send task's retries on SMTP errors).
EMAIL_MAX_ATTEMPTS = 5
#: How long a send waits for the session's strip to be rendered before it goes without it.
STRIP_WAIT = dt.timedelta(minutes=2)
EMAIL_PAUSED_MESSAGE = "Sending is temporarily paused for this event."
EMAIL_ARCHIVED_MESSAGE = "This event is archived: its photos can no longer be shared by email."
#: Backend exceptions (by class name) that mean the address itself was refused: no retry.
REFUSED_ERRORS = frozenset(
    {"SMTPRecipientsRefused", "AnymailRecipientsRefused", "AnymailInvalidAddress"}
)


class StripNotReady(Exception):
    """The session's strip is still being rendered: send the email a little later."""


def queue_share_email(booth: Booth, session: BoothSession, address: object) -> EmailMessage:
    """Validate ``address``, apply the email caps, and queue an email with the session's link.

    Raises emails.InvalidEmail (400) for an address Django's EmailValidator refuses;
    EmailUnavailable (409) for an archived event or a session with nothing to share;
    EmailPaused (503) while the event's sending is paused (its SendingPause: the same
    pause that holds its SMS); EmailLimitReached (429, ``retry_after`` when known) when
    the per-session (``BOOTHSITE_EMAIL_PER_SESSION``), per-address per day
    (``BOOTHSITE_EMAIL_PER_ADDRESS_PER_DAY``, within the event) or per-event per day
    (``BOOTHSITE_EMAIL_PER_EVENT_PER_DAY``) cap is reached. The caps are counted under
    a row lock on the organiser, as the SMS caps are (``first_cap_reached``).

    The row is created queued, subject rendered, with its first ``enqueue_attempts``
    and ``enqueued_at``: that row is the record that a send is due.
    ``messaging.tasks.send_email_message`` is queued after the commit; if the broker
    cannot take it, ``sweep_queued_email`` queues it again.
    """
    event = session.event
    if event.archived_at is not None:
        raise EmailUnavailable(EMAIL_ARCHIVED_MESSAGE)
    to = emails.normalise_email(address)
    if not session.captures.visible().exists():
        msg = "Take a photo before sending the link."
        raise EmailUnavailable(msg)
    if SendingPause.objects.active().filter(event=event).exists():
        raise EmailPaused(EMAIL_PAUSED_MESSAGE)
    with transaction.atomic():
        organiser = Organiser.objects.select_for_update().get(pk=event.organiser_id)
        now = timezone.now()
        to_hash = emails.email_hash(to)
        refusal = first_cap_reached(
            _email_caps(event, session, to_hash, now), now, EmailLimitReached
        )
        if refusal is None:
            subject, _, _ = compose_share_email(event, session.share_url())
            message = EmailMessage.objects.create(
                organiser=organiser,
                event=event,
                session=session,
                requested_by=booth,
                to=to,
                to_hash=to_hash,
                subject=subject,
                enqueue_attempts=1,
                enqueued_at=now,
            )
            _enqueue_send(EmailMessage, message.pk)
            return message
    raise refusal.error


def _email_caps(event: Event, session: BoothSession, to_hash: str, now: dt.datetime) -> list[Cap]:
    day = now - dt.timedelta(days=1)
    sent = EmailMessage.objects
    return [
        Cap(
            sent.filter(session=session),
            settings.BOOTHSITE_EMAIL_PER_SESSION,
            "These photos were emailed as many times as allowed.",
        ),
        Cap(
            sent.filter(event=event, to_hash=to_hash, created_at__gte=day),
            settings.BOOTHSITE_EMAIL_PER_ADDRESS_PER_DAY,
            "Too many emails to this address. Try again later.",
            window=dt.timedelta(days=1),
        ),
        Cap(
            sent.filter(event=event, created_at__gte=day),
            settings.BOOTHSITE_EMAIL_PER_EVENT_PER_DAY,
            "Email quota for this event reached.",
            retry_after=3600,
        ),
    ]


def compose_share_email(
    event: Event,
    link: str,
    strip_cid: str = STRIP_CID,
    *,
    subject: str | None = None,
    template: str | None = None,
) -> tuple[str, str, str]:
    """Return ``(subject, text, html)`` of the share email for ``link``.

    The subject is the event's ``email_subject`` (control characters turned into
    spaces, 200 characters at most), else "Your photos from <event>". The text is the
    event's ``email_template`` with each ``{link}`` replaced by the link (or the link
    added at its end when it has none), else ``templates/messaging/email/share.txt``.
    The HTML part (``share.html``) holds the same paragraphs, escaped, the link as a
    button and the strip as ``cid:<strip_cid>`` (left out when ``strip_cid`` is empty);
    it never holds the guest's address. ``subject`` and ``template`` stand in for the
    event's (the console's defaults; "" gives the default).
    """
    name = CONTROL_CHARACTERS.sub(" ", event.name)[:MAX_EVENT_NAME]
    subject = event.email_subject if subject is None else subject
    subject = " ".join(CONTROL_CHARACTERS.sub(" ", subject).split())[:200]
    subject = subject or f"Your photos from {name}"[:200]
    template = event.email_template if template is None else template
    template = template.replace("\r\n", "\n").strip()
    if template:
        template = re.sub(r"[\x00-\x09\x0b-\x1f\x7f]", " ", template)
        text = (
            template.replace(LINK_PLACEHOLDER, link)
            if LINK_PLACEHOLDER in template
            else f"{template}\n\n{link}"
        )
    else:
        text = render_to_string(
            "messaging/email/share.txt", {"event_name": name, "link": link}
        ).strip()
    paragraphs = [part.strip() for part in text.split("\n\n") if part.strip()]
    html = render_to_string(
        "messaging/email/share.html",
        {"subject": subject, "paragraphs": paragraphs, "link": link, "strip_cid": strip_cid},
    )
    return subject, text + "\n", html


def share_strip(session: BoothSession) -> Strip | None:
    """Return the session's strip to inline in its email: its first one rendered, or None."""
    return (
        Strip.objects.filter(session=session, status=RenderStatus.READY)
        .exclude(image="")
        .order_by("created_at", "pk")
        .first()
    )


def build_share_email(
    message: EmailMessage, *, wait_for_strip: bool = True
) -> EmailMultiAlternatives:
    """Return the Django email for a queued share: text, HTML and the strip inline.

    A ``multipart/related`` message: a ``multipart/alternative`` with the text and the
    HTML parts, then the strip's JPEG with ``Content-ID: <STRIP_CID>`` and an inline
    disposition (file name ``photo-strip.jpg``: no personal data). Without a rendered
    strip the HTML part leaves its image out. From ``DEFAULT_FROM_EMAIL``.

    :raises StripNotReady: with ``wait_for_strip``, while the session's strip is still
        pending and the message is younger than ``STRIP_WAIT``.
    """
    session = message.session
    link = session.share_url() if session is not None else settings.SITE_URL
    strip = share_strip(session) if session is not None else None
    if strip is None and session is not None and wait_for_strip:
        pending = Strip.objects.filter(session=session, status=RenderStatus.PENDING).exists()
        if pending and timezone.now() - message.created_at < STRIP_WAIT:
            raise StripNotReady
    subject, text, html = compose_share_email(
        message.event, link, STRIP_CID if strip is not None else ""
    )
    email = EmailMultiAlternatives(message.subject or subject, text, None, [message.to])
    if strip is None:
        email.attach_alternative(html, "text/html")
        return email
    email.attach_alternative(html, "text/html")
    email.mixed_subtype = "related"
    with strip.image.open("rb") as file:
        image = MIMEImage(file.read(), "jpeg")
    image.add_header("Content-ID", f"<{STRIP_CID}>")
    image.add_header("Content-Disposition", "inline", filename="photo-strip.jpg")
    email.attach(image)
    return email


def send_email_message(message: EmailMessage, *, wait_for_strip: bool = True) -> EmailMessage:
    """Send a queued share email once and record the outcome; never logs the address.

    Does nothing while the event's sending is paused (the email stays queued until
    ``lift_pause``). Claims the row with a conditional UPDATE (queued → sending,
    ``attempts`` + 1, ``claimed_at``), so a task run twice sends once. Sent: ``sent``,
    ``sent_at``. The address refused (SMTP 550 to every recipient, an email service's
    invalid address): ``failed`` at once. Any other backend error (a dead or refusing
    SMTP server, a timeout, an email service down): back to ``queued`` with the error's
    class in ``error_text``, and TransientEmailError is raised for the task to retry;
    the task marks it failed after ``EMAIL_MAX_ATTEMPTS``. An erased address (empty) is
    failed without a send.

    :raises StripNotReady: before the claim, while the strip is still rendering
        (``build_share_email``; never without ``wait_for_strip``).
    :raises TransientEmailError: after a retryable failure (the row is queued again).
    """
    if message.status != EmailMessage.Status.QUEUED:
        return message
    if SendingPause.objects.active().filter(event_id=message.event_id).exists():
        return message
    if not message.to:
        EmailMessage.objects.filter(pk=message.pk, status=EmailMessage.Status.QUEUED).update(
            status=EmailMessage.Status.FAILED, error_text="The address was erased."
        )
        message.refresh_from_db()
        return message
    email = build_share_email(message, wait_for_strip=wait_for_strip)
    claimed = EmailMessage.objects.filter(pk=message.pk, status=EmailMessage.Status.QUEUED).update(
        status=EmailMessage.Status.SENDING, attempts=F("attempts") + 1, claimed_at=timezone.now()
    )
    if not claimed:
        message.refresh_from_db()
        return message
    try:
        email.send(fail_silently=False)
    except Exception as exc:  # every backend raises its own; none may escape unrecorded
        name = type(exc).__name__
        refused = name in REFUSED_ERRORS
        status = EmailMessage.Status.FAILED if refused else EmailMessage.Status.QUEUED
        text = "The mail server refused the address." if refused else f"Not sent yet ({name})."
        EmailMessage.objects.filter(pk=message.pk, status=EmailMessage.Status.SENDING).update(
            status=status, error_text=text[:255]
        )
        logger.warning("Email %s not sent (%s).", message.public_id, name)
        message.refresh_from_db()
        if not refused:
            raise TransientEmailError(name) from None
        return message
    EmailMessage.objects.filter(pk=message.pk, status=EmailMessage.Status.SENDING).update(
        status=EmailMessage.Status.SENT, sent_at=timezone.now(), error_text=""
    )
    message.refresh_from_db()
    logger.info("Email %s sent.", message.public_id)
    return message


def fail_email_after_last_attempt(message: EmailMessage) -> None:
    """Mark a queued email failed: its last allowed attempt met a transient error."""
    EmailMessage.objects.filter(pk=message.pk, status=EmailMessage.Status.QUEUED).update(
        status=EmailMessage.Status.FAILED,
        error_text=f"{message.error_text} Gave up after {message.attempts} tries."[:255],
    )


def event_email_ledger(event: Event) -> QuerySet[EmailMessage]:
    """Return the event's share emails, newest first, with their booth."""
    return EmailMessage.objects.for_event(event).select_related("requested_by")


def reveal_email(message: EmailMessage, actor: AbstractBaseUser, *, reason: str) -> str:
    """Return an email's full address and write who looked, when and why (AuditEntry)."""
    AuditEntry.objects.create(
        actor_id=actor.pk,
        organiser_id=message.organiser_id,
        action=AuditEntry.Action.REVEAL_EMAIL,
        email=message,
        event_id=message.event_id,
        reason=reason[:200],
        detail={"email_hash": message.to_hash},
    )
    return message.to


def erase_email(organiser: Organiser, address: str, actor: AbstractBaseUser | None) -> int:
    """Erase a guest's address from every email of ``organiser`` (never another's).

    The address is blanked and ``erased_at`` set (its keyed hash stays, so caps still
    count and a repeat finds nothing to do); one audit entry records the hash only.
    Returns how many emails held the address.

    :raises emails.InvalidEmail: for an invalid address.
    """
    to_hash = emails.email_hash(emails.normalise_email(address))
    with transaction.atomic():
        held = EmailMessage.objects.for_organiser(organiser).filter(to_hash=to_hash)
        count = held.exclude(to="").update(to="", erased_at=timezone.now())
        AuditEntry.objects.create(
            actor_id=actor.pk if actor else None,
            organiser=organiser,
            action=AuditEntry.Action.ERASE_EMAIL,
            detail={"emails": count, "email_hash": to_hash},
        )
    return count


def erase_event_emails(event: Event, now: dt.datetime) -> int:
    """Blank the addresses of the event's emails (retention); return how many were erased."""
    held = EmailMessage.objects.filter(event=event).exclude(to="")
    return held.update(to="", erased_at=now)


def update_event_email_settings(event: Event, *, email_subject: str, email_template: str) -> Event:
    """Store the event's share email subject and text (validated by ``EventEmailForm``)."""
    event.email_subject = email_subject
    event.email_template = email_template
    event.save(update_fields=["email_subject", "email_template"])
    return event
