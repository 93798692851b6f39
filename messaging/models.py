"""The SMS ledger: every message sent to a guest, and its delivery receipts."""

from __future__ import annotations

import uuid
from typing import Self

from django.db import models
from django.utils import timezone

from captures.models import BoothSession
from events.models import Booth, Event, Organiser
from events.scoping import OrganiserScopedQuerySet


def new_client_ref() -> str:
    """Return an opaque reference for Vonage's ``client-ref`` (32 hex characters, no PII)."""
    return uuid.uuid4().hex


def new_callback_token() -> str:
    return uuid.uuid4().hex


class SmsMessageQuerySet(OrganiserScopedQuerySet["SmsMessage"]):
    def for_event(self, event: Event) -> Self:
        return self.filter(event=event)


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

    FINAL_STATUSES = frozenset({Status.DELIVERED, Status.FAILED, Status.REJECTED, Status.EXPIRED})

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
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True)
    final_at = models.DateTimeField(null=True, blank=True)

    objects = SmsMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "SMS message"
        indexes = [models.Index(fields=["event", "created_at"])]

    def __str__(self) -> str:
        return f"SMS {self.public_id}"


class DeliveryReceiptQuerySet(OrganiserScopedQuerySet["DeliveryReceipt"]):
    organiser_path = "sms__organiser"


class DeliveryReceipt(models.Model):
    """A delivery receipt (DLR) reported by the SMS provider for one message."""

    sms = models.ForeignKey(SmsMessage, on_delete=models.CASCADE, related_name="receipts")
    status = models.CharField(max_length=16)
    err_code = models.CharField(max_length=16, blank=True)
    raw = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)

    objects = DeliveryReceiptQuerySet.as_manager()

    class Meta:
        ordering = ["received_at", "pk"]

    def __str__(self) -> str:
        return f"{self.status} for {self.sms_id}"
