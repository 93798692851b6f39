"""Booth sessions, their captures, the filtered variants and the strips."""

from __future__ import annotations

import uuid
from typing import Any, Self

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone

from captures import imaging
from events import tokens
from events.models import Booth, Event
from events.scoping import EventScopedQuerySet


class RenderStatus(models.TextChoices):
    """Where a capture's variants or a strip stand: pending, then ready or failed.

    The pending state is the durable record that a render is due (issue 11.2): it is
    written in the transaction that queues the task, so a broker that is down at the
    commit loses nothing. Beside it, captures and strips keep ``render_attempts`` (times
    a render was queued: the commit, then the sweeper; bounded by
    ``BOOTHSITE_RENDER_MAX_ATTEMPTS``), ``render_enqueued_at`` (the latest queueing;
    the sweeper queues rows again once it is ``BOOTHSITE_SWEEP_AFTER_SECONDS`` old),
    ``render_error`` (the exception class of the failure, "" before any) and
    ``render_retryable`` (the failure was transient, a storage error, so the sweeper
    may queue it again; never for a corrupt image).
    """

    PENDING = "pending", "Rendering"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class BoothSessionQuerySet(EventScopedQuerySet["BoothSession"]):
    def for_booth(self, booth: Booth) -> Self:
        return self.filter(booth=booth)


class BoothSession(models.Model):
    """One guest's (or group's) visit to a booth: 1 to 4 captures, then strips and sharing."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        FINISHED = "finished", "Finished"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    booth = models.ForeignKey(Booth, on_delete=models.PROTECT, related_name="sessions")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="sessions")
    share_token = models.CharField(max_length=64, unique=True, default=tokens.link_token)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    started_at = models.DateTimeField(default=timezone.now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = BoothSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["event", "started_at"])]

    def __str__(self) -> str:
        return f"Session {self.public_id}"

    def clean(self) -> None:
        """Refuse a session whose booth and event belong to different organisers.

        Raises ValidationError on ``event`` (RELIABILITY 33).
        """
        super().clean()
        if not self.booth_id or not self.event_id:
            return
        booth_org = Booth.objects.filter(pk=self.booth_id).values_list("organiser_id", flat=True)
        event_org = Event.objects.filter(pk=self.event_id).values_list("organiser_id", flat=True)
        if booth_org.first() != event_org.first():
            raise ValidationError({"event": "Choose an event of the booth's own organiser."})

    def share_path(self) -> str:
        return reverse("captures:share", args=[self.share_token])

    def share_url(self) -> str:
        return f"{settings.SITE_URL}{self.share_path()}"

    def download_path(self) -> str:
        """Return the path of the guest's "download all" ZIP (the share page's token)."""
        return reverse("captures:share-zip", args=[self.share_token])

    def download_url(self) -> str:
        return f"{settings.SITE_URL}{self.download_path()}"


class CaptureQuerySet(EventScopedQuerySet["Capture"]):
    def visible(self) -> Self:
        return self.filter(hidden=False)

    def hidden(self) -> Self:
        """Return the captures an organiser hid: kept, but shown to no guest, served by no link."""
        return self.filter(hidden=True)

    def newest_first(self) -> Self:
        return self.order_by("-taken_at", "-pk")


class Capture(models.Model):
    """One photo taken by a booth, stored re-encoded without metadata."""

    class Trigger(models.TextChoices):
        MANUAL = "manual", "Manual"
        COUNTDOWN = "countdown", "Countdown"
        SMILE = "smile", "Smile"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(BoothSession, on_delete=models.CASCADE, related_name="captures")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="captures")
    image = models.FileField(max_length=200)
    thumbnail = models.FileField(max_length=200, blank=True)
    format = models.CharField(max_length=8, default="JPEG")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size_bytes = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    smile_score = models.FloatField(null=True, blank=True)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    render_status = models.CharField(
        max_length=10, choices=RenderStatus.choices, default=RenderStatus.PENDING
    )
    # Queueing and failure record of the render: see RenderStatus.
    render_attempts = models.PositiveSmallIntegerField(default=0)
    render_enqueued_at = models.DateTimeField(null=True, blank=True)
    render_error = models.CharField(max_length=64, blank=True)
    render_retryable = models.BooleanField(default=False)
    taken_at = models.DateTimeField(default=timezone.now)
    hidden = models.BooleanField(default=False)

    objects = CaptureQuerySet.as_manager()

    class Meta:
        ordering = ["taken_at", "pk"]
        indexes = [
            models.Index(fields=["event", "taken_at"]),
            # The hidden few of an event, which ``/media/`` checks on every file it serves.
            models.Index(
                fields=["event"], condition=models.Q(hidden=True), name="capture_hidden_event"
            ),
        ]

    def __str__(self) -> str:
        return f"Capture {self.public_id}"

    def clean(self) -> None:
        """Refuse a capture whose event is not its session's; ValidationError on ``event``."""
        super().clean()
        _same_event(self.event_id, BoothSession.objects.filter(pk=self.session_id), "session")


class CaptureVariantQuerySet(EventScopedQuerySet["CaptureVariant"]):
    pass


class CaptureVariant(models.Model):
    """A capture rendered through one filter of ``captures.imaging.FILTERS``."""

    capture = models.ForeignKey(Capture, on_delete=models.CASCADE, related_name="variants")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    filter = models.CharField(max_length=32)
    image = models.FileField(max_length=200)
    thumbnail = models.FileField(max_length=200, blank=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    # The stored image's size, so that a ZIP knows its length without asking storage.
    size_bytes = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = CaptureVariantQuerySet.as_manager()

    class Meta:
        ordering = ["capture", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["capture", "filter"], name="variant_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.filter} of {self.capture_id}"

    def clean(self) -> None:
        """Refuse a variant whose event is not its capture's; ValidationError on ``event``."""
        super().clean()
        _same_event(self.event_id, Capture.objects.filter(pk=self.capture_id), "capture")

    @property
    def label(self) -> str:
        """The filter's human name ("Sepia"), or its registry name if it was removed."""
        known = imaging.FILTERS.get(self.filter)
        return known.label if known else self.filter


class StripQuerySet(EventScopedQuerySet["Strip"]):
    pass


class Strip(models.Model):
    """A session's captures composed into one print-style image (``STRIP_LAYOUTS``)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(BoothSession, on_delete=models.CASCADE, related_name="strips")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="strips")
    layout = models.CharField(max_length=32)
    filter = models.CharField(max_length=32, blank=True)
    status = models.CharField(
        max_length=10, choices=RenderStatus.choices, default=RenderStatus.PENDING
    )
    # Queueing and failure record of the render: see RenderStatus.
    render_attempts = models.PositiveSmallIntegerField(default=0)
    render_enqueued_at = models.DateTimeField(null=True, blank=True)
    render_error = models.CharField(max_length=64, blank=True)
    render_retryable = models.BooleanField(default=False)
    image = models.FileField(max_length=200, blank=True)
    thumbnail = models.FileField(max_length=200, blank=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    size_bytes = models.PositiveIntegerField(default=0)
    # The ``animated`` layout: ``image`` is a looping animated WebP and this its GIF.
    gif = models.FileField(max_length=200, blank=True)
    gif_size_bytes = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = StripQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["session", "layout", "filter"], name="strip_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.layout} strip of {self.session_id}"

    def clean(self) -> None:
        """Refuse a strip whose event is not its session's; ValidationError on ``event``."""
        super().clean()
        _same_event(self.event_id, BoothSession.objects.filter(pk=self.session_id), "session")


def _same_event(event_id: int | None, parent: models.QuerySet[Any], name: str) -> None:
    """Raise ValidationError on ``event`` unless ``parent``'s row was recorded at ``event_id``.

    A row's event is always its parent's (session or capture), so an event of another
    organiser, or another event of the same one, is refused (RELIABILITY 33). Missing
    ids are left to the fields' own "required" errors.
    """
    parent_event = parent.values_list("event_id", flat=True).first()
    if event_id is None or parent_event is None:
        return
    if parent_event != event_id:
        raise ValidationError({"event": f"Use the event of this {name}."})
