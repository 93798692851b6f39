"""The SMS and email ledgers: every message sent to a guest, and SMS delivery receipts."""

from __future__ import annotations

import uuid
from typing import Self

from django.conf import settings
from django.db import models
from django.utils import timezone

from captures.models import BoothSession
from events.models import Booth, Event, Organiser
from events.scoping import EventScopedQuerySet, OrganiserScopedQuerySet


def new_client_ref() -> str:
    """Return an opaque reference for Vonage's ``client-ref`` (32 hex characters, no PII)."""
    return uuid.uuid4().hex


def new_callback_token() -> str:
    return uuid.uuid4().hex


#: ``SmsMessage.account`` of a message sent through the platform's Vonage account.
PLATFORM_ACCOUNT = "platform"


class SmsAccountQuerySet(OrganiserScopedQuerySet["SmsAccount"]):
    def live(self) -> Self:
        """Return the accounts in use (not retired): at most one per organiser."""
        return self.filter(retired_at__isnull=True)


class SmsAccount(models.Model):
    """An organiser's own Vonage account: its API key and secret, encrypted, and a sender.

    An organiser with no live account (``retired_at`` empty) texts through the
    platform's account. The key and secret are Fernet tokens
    (``messaging.credentials``), never shown again: ``key_ending`` keeps the key's last
    four characters for the console. New credentials retire the live row (wiping its
    tokens) and make a new one, so ``SmsMessage.account`` names the credentials that
    sent each message. ``verified_at`` is when Vonage last accepted them (empty when
    they could not be checked).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organiser = models.ForeignKey(Organiser, on_delete=models.CASCADE, related_name="sms_accounts")
    api_key_encrypted = models.TextField(editable=False)
    api_secret_encrypted = models.TextField(editable=False)
    key_ending = models.CharField(max_length=4, editable=False)
    sender = models.CharField(
        max_length=15, blank=True, help_text="Sender name or number; empty: the platform's."
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    retired_at = models.DateTimeField(null=True, blank=True)

    objects = SmsAccountQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "SMS account"
        constraints = [
            models.UniqueConstraint(
                fields=["organiser"],
                condition=models.Q(retired_at__isnull=True),
                name="sms_account_one_live_per_organiser",
            ),
        ]

    def __str__(self) -> str:
        return f"Vonage account ending {self.key_ending} of {self.organiser}"


class SmsMessageQuerySet(EventScopedQuerySet["SmsMessage"]):
    organiser_path = "organiser"  # a message names its organiser directly


class SmsMessage(models.Model):
    """One SMS to a guest, from queued through submitted to a final status.

    Statuses: queued → sending → submitted → delivered | failed | rejected | expired,
    or unknown when the outcome of a send could not be known.

    ``to`` is E.164 (``+447400123456``) and is personal data: it is masked wherever it is
    shown and never leaves in a URL, a file name, a log line or a Vonage field that cannot
    be redacted. ``client_ref`` is an opaque id sent to Vonage.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SUBMITTED = "submitted", "Submitted"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        REJECTED = "rejected", "Rejected"
        EXPIRED = "expired", "Expired"
        UNKNOWN = "unknown", "Unknown"
        CANCELLED = "cancelled", "Cancelled"

    FINAL_STATUSES = frozenset(
        {Status.DELIVERED, Status.FAILED, Status.REJECTED, Status.EXPIRED, Status.CANCELLED}
    )

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organiser = models.ForeignKey(Organiser, on_delete=models.CASCADE, related_name="sms")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="sms")
    session = models.ForeignKey(
        BoothSession, on_delete=models.SET_NULL, null=True, blank=True, related_name="sms"
    )
    requested_by = models.ForeignKey(
        Booth, on_delete=models.SET_NULL, null=True, blank=True, related_name="sms"
    )
    to = models.CharField(max_length=16, blank=True)
    to_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    gateway = models.CharField(max_length=16, blank=True)
    # Which account sent it: PLATFORM_ACCOUNT, or the public id of the organiser's own
    # SmsAccount; empty until a send is tried.
    account = models.CharField(max_length=36, blank=True)
    provider_message_id = models.CharField(max_length=64, blank=True, db_index=True)
    client_ref = models.CharField(max_length=40, unique=True, default=new_client_ref)
    callback_token = models.CharField(max_length=40, unique=True, default=new_callback_token)
    error_code = models.CharField(max_length=16, blank=True)
    error_text = models.CharField(max_length=255, blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=5, null=True, blank=True)
    network = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The queued status is the durable record that a send is due (issue 11.2): times a
    # send task was queued for it (the request, then the sweeper) and when it is due.
    enqueue_attempts = models.PositiveSmallIntegerField(default=0)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True)
    final_at = models.DateTimeField(null=True, blank=True)

    objects = SmsMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "SMS message"
        indexes = [
            models.Index(fields=["event", "created_at"]),
            models.Index(fields=["organiser", "created_at"]),
            models.Index(fields=["requested_by", "created_at"]),
        ]
        permissions = [("view_full_phone", "Can reveal full phone numbers (audited)")]

    def __str__(self) -> str:
        return f"SMS {self.public_id}"


class DeliveryReceiptQuerySet(OrganiserScopedQuerySet["DeliveryReceipt"]):
    organiser_path = "sms__organiser"


class DeliveryReceipt(models.Model):
    """A delivery receipt (DLR) reported by the SMS provider for one message.

    ``dedupe_key`` is a hash of the receipt's fields, so a receipt Vonage sends again
    (it retries on errors, and retries produce duplicates) is stored once.
    """

    sms = models.ForeignKey(SmsMessage, on_delete=models.CASCADE, related_name="receipts")
    # NULL only for receipts stored before de-duplication existed; NULLs never collide.
    dedupe_key = models.CharField(max_length=64, unique=True, null=True, editable=False)  # noqa: DJ001
    status = models.CharField(max_length=16)
    err_code = models.CharField(max_length=16, blank=True)
    raw = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)

    objects = DeliveryReceiptQuerySet.as_manager()

    class Meta:
        ordering = ["received_at", "pk"]

    def __str__(self) -> str:
        return f"{self.status} for {self.sms_id}"


class SendingPauseQuerySet(models.QuerySet["SendingPause"]):
    def active(self) -> Self:
        return self.filter(lifted_at__isnull=True)


class SendingPause(models.Model):
    """SMS sending stopped for an account (``event`` empty) or for one event.

    An account is paused when the provider says its credentials, the account or its
    quota are at fault: the platform's account (``organiser`` empty too), or one
    organiser's own account (``organiser`` set), which stops that organiser's messages
    only. An event is paused by the pumping breaker. Messages stay queued until staff
    lift the pause in the admin (or, for an organiser's own account, until its owner
    saves the account again).
    """

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, null=True, blank=True, related_name="sms_pauses"
    )
    organiser = models.ForeignKey(
        Organiser,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sms_account_pauses",
        help_text="Set for a pause of this organiser's own SMS account.",
    )
    reason = models.CharField(max_length=200)
    error_code = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)

    objects = SendingPauseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        if self.event_id:
            scope = f"event {self.event_id}"
        elif self.organiser_id:
            scope = f"the own account of organiser {self.organiser_id}"
        else:
            scope = "the platform account"
        return f"SMS paused for {scope}: {self.reason}"


class EmailMessageQuerySet(EventScopedQuerySet["EmailMessage"]):
    organiser_path = "organiser"  # a message names its organiser directly


class EmailMessage(models.Model):
    """One email to a guest with their session's link and strip (issue 14.5).

    Statuses: queued → sending → sent | failed, or unknown when the worker died
    mid-send and the mail server may or may not have taken it (never sent again). That
    is all Django's email backend can tell: "sent" means the mail server (or the email
    service) took it, not that it reached the inbox. ``to`` is the guest's address,
    lower-cased domain, and is personal data: masked wherever shown, never in a URL, a
    file name or a log line; ``to_hash`` (keyed) counts the per-address cap and finds it
    for an erase, also after ``to`` is blanked (``erased_at``).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        UNKNOWN = "unknown", "Unknown"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organiser = models.ForeignKey(Organiser, on_delete=models.CASCADE, related_name="emails")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="emails")
    session = models.ForeignKey(
        BoothSession, on_delete=models.SET_NULL, null=True, blank=True, related_name="emails"
    )
    requested_by = models.ForeignKey(
        Booth, on_delete=models.SET_NULL, null=True, blank=True, related_name="emails"
    )
    to = models.EmailField(max_length=254, blank=True)
    to_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    subject = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    error_text = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # As for SMS (issue 11.2): the queued row is the record that a send is due; times
    # its send task was queued (the request, then the sweeper) and when it is due.
    enqueue_attempts = models.PositiveSmallIntegerField(default=0)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # When the last send began (queued → sending): a row sending for longer than
    # ``services.STALE_SENDING`` lost its worker.
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    objects = EmailMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "email message"
        indexes = [
            models.Index(fields=["event", "created_at"]),
            models.Index(fields=["session", "created_at"]),
        ]
        permissions = [("view_full_email", "Can reveal full email addresses (audited)")]

    def __str__(self) -> str:
        return f"Email {self.public_id}"


class AuditEntryQuerySet(OrganiserScopedQuerySet["AuditEntry"]):
    pass


class AuditEntry(models.Model):
    """Who did what to personal data, and when.

    Phone numbers appear only as keyed hashes (``phone_hash``); email addresses too, in
    ``detail["email_hash"]``.
    """

    class Action(models.TextChoices):
        REVEAL_PHONE = "reveal_phone", "Revealed a phone number"
        ERASE_NUMBER = "erase_number", "Erased a phone number"
        RETENTION_PURGE = "retention_purge", "Purged personal data after retention"
        REVEAL_EMAIL = "reveal_email", "Revealed an email address"
        ERASE_EMAIL = "erase_email", "Erased an email address"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    organiser = models.ForeignKey(
        Organiser, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_entries"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    sms = models.ForeignKey(SmsMessage, on_delete=models.SET_NULL, null=True, blank=True)
    email = models.ForeignKey(EmailMessage, on_delete=models.SET_NULL, null=True, blank=True)
    event = models.ForeignKey(Event, on_delete=models.SET_NULL, null=True, blank=True)
    phone_hash = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.get_action_display()} at {self.created_at:%Y-%m-%d %H:%M}"
