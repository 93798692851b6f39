"""The SMS ledger: every message sent to a guest, and its delivery receipts."""

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
    """SMS sending stopped for the whole account (``event`` empty) or for one event.

    The account is paused when the provider says the credentials, the account or its
    quota are at fault; an event is paused by the pumping breaker. Messages stay queued
    until staff lift the pause in the admin.
    """

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, null=True, blank=True, related_name="sms_pauses"
    )
    reason = models.CharField(max_length=200)
    error_code = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)

    objects = SendingPauseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        scope = f"event {self.event_id}" if self.event_id else "the account"
        return f"SMS paused for {scope}: {self.reason}"


class AuditEntryQuerySet(OrganiserScopedQuerySet["AuditEntry"]):
    pass


class AuditEntry(models.Model):
    """Who did what to personal data, and when. Phone numbers appear only as keyed hashes."""

    class Action(models.TextChoices):
        REVEAL_PHONE = "reveal_phone", "Revealed a phone number"
        ERASE_NUMBER = "erase_number", "Erased a phone number"
        RETENTION_PURGE = "retention_purge", "Purged personal data after retention"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    organiser = models.ForeignKey(
        Organiser, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_entries"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    sms = models.ForeignKey(SmsMessage, on_delete=models.SET_NULL, null=True, blank=True)
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
