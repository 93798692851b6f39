"""Writes and business rules for booth sessions, captures, variants and strips.

Entry points pass already-authorised objects. Files are written before the rows that
name them and removed again if the rows cannot be written, so a failure leaves neither a
half-written row nor an orphaned file. Rendering is queued after the commit through
``boothsite.celery.enqueue_on_commit``, by task name (``captures.tasks`` imports this
module, never the other way round).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from io import BytesIO

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from PIL import Image

from boothsite.celery import enqueue_on_commit
from captures import imaging, live, storage
from captures.exceptions import (
    BoothNotAssigned,
    CaptureLimitReached,
    NothingToFinish,
    SessionClosed,
)
from captures.models import BoothSession, Capture, CaptureVariant, RenderStatus, Strip
from events.models import Booth, Event

logger = logging.getLogger(__name__)


def enabled_filters(event: Event) -> list[str]:
    """Return the event's filters that exist in the registry, in registry order."""
    wanted = set(event.filters or [])
    return [name for name in imaging.FILTERS if name in wanted]


def event_adjustments(event: Event) -> imaging.Adjustments:
    """Return the event's camera-style adjustments (identity when all are 1.0)."""
    return imaging.Adjustments(
        brightness=event.brightness, contrast=event.contrast, saturation=event.saturation
    )


def enabled_layouts(event: Event) -> list[str]:
    """Return the event's strip layouts that exist in the registry (at least ``horizontal_4``)."""
    wanted = [name for name in (event.strip_layouts or []) if name in imaging.STRIP_LAYOUTS]
    return wanted or ["horizontal_4"]


def start_session(booth: Booth, event: Event | None = None) -> BoothSession:
    """Open a new session at ``event`` (default: the booth's current event).

    Raises BoothNotAssigned (409) when the booth serves no event or an archived one, and
    ValueError when ``event`` belongs to another organiser.
    """
    if event is not None and event.organiser_id != booth.organiser_id:
        msg = "The event belongs to another organiser."
        raise ValueError(msg)
    event = event or booth.current_event
    if event is None or event.archived_at is not None:
        msg = "This booth is not assigned to an event. Ask the organiser to assign one."
        raise BoothNotAssigned(msg)
    return BoothSession.objects.create(booth=booth, event=event)


def record_capture(
    session: BoothSession,
    data: bytes | str,
    *,
    trigger: str = Capture.Trigger.MANUAL,
    smile_score: float | None = None,
) -> Capture:
    """Store one photo for an open session and queue its variants.

    ``data`` is the upload: raw PNG/JPEG bytes or a ``data:image/…;base64,`` URL. The
    original is decoded safely, re-encoded in its own format without metadata (EXIF,
    GPS, XMP) and stored under a random key with a thumbnail.

    Raises imaging.InvalidImage (4xx with a user-facing message) for a bad image,
    SessionClosed (409) for a finished session and CaptureLimitReached (409) when the
    event's captures per session are taken. Nothing is stored in either case. On commit,
    the task ``captures.tasks.render_variants`` is queued.
    """
    _check_open(session)
    original = imaging.encode_original(
        imaging.decode_upload(data),
        quality=settings.BOOTHSITE_JPEG_QUALITY,
        thumb_side=settings.BOOTHSITE_THUMBNAIL_SIDE,
    )
    event = session.event
    org_id, event_id = event.organiser.public_id, event.public_id
    with storage.staged_files() as staged:
        image_name = staged.save(
            storage.media_key(org_id, event_id, original.format), original.data
        )
        thumb_name = staged.save(storage.media_key(org_id, event_id, "JPEG"), original.thumbnail)
        with transaction.atomic():
            locked = BoothSession.objects.select_for_update().get(pk=session.pk)
            _check_open(locked)
            capture = Capture.objects.create(
                session=locked,
                event=event,
                image=image_name,
                thumbnail=thumb_name,
                format=original.format,
                width=original.width,
                height=original.height,
                size_bytes=len(original.data),
                sha256=hashlib.sha256(original.data).hexdigest(),
                smile_score=smile_score,
                trigger=trigger,
            )
            enqueue_on_commit("captures.tasks.render_variants", capture.pk)
    return capture


def _check_open(session: BoothSession) -> None:
    if session.status != BoothSession.Status.OPEN:
        msg = "This session is finished; start a new one."
        raise SessionClosed(msg)
    limit = session.event.captures_per_session
    if session.captures.count() >= limit:
        msg = f"This session already has {limit} photos, the most this event allows."
        raise CaptureLimitReached(msg)


def _load(name: str, *, rgb: bool = True) -> Image.Image:
    with default_storage.open(name, "rb") as stored:
        image = Image.open(BytesIO(stored.read()), formats=imaging.ALLOWED_FORMATS)
        image.load()
    return image.convert("RGB") if rgb and image.mode != "RGB" else image


def render_variants(capture: Capture) -> list[CaptureVariant]:
    """Render the event's filters for ``capture`` and store those not stored yet.

    Safe to run twice or concurrently: a filter already stored is skipped, and a row
    that loses the race to the unique constraint has its files removed. Marks the
    capture ready and announces ``capture.ready`` to the event's live group.
    """
    done = set(capture.variants.values_list("filter", flat=True))
    missing = [name for name in enabled_filters(capture.event) if name not in done]
    created: list[CaptureVariant] = []
    if missing:
        encoded = imaging.render_variant_files(
            _load(capture.image.name),
            missing,
            event_adjustments(capture.event),
            fmt=settings.BOOTHSITE_VARIANT_FORMAT,
            quality=settings.BOOTHSITE_JPEG_QUALITY,
            thumb_side=settings.BOOTHSITE_THUMBNAIL_SIDE,
        )
        created = [_store_variant(capture, name, image) for name, image in encoded.items()]
    Capture.objects.filter(pk=capture.pk).update(render_status=RenderStatus.READY)
    capture.render_status = RenderStatus.READY
    live.announce_capture_ready(capture)
    return [variant for variant in created if variant.pk]


def _store_variant(capture: Capture, name: str, encoded: imaging.EncodedImage) -> CaptureVariant:
    event = capture.event
    org_id, event_id = event.organiser.public_id, event.public_id
    variant = CaptureVariant(
        capture=capture, event=event, filter=name, width=encoded.width, height=encoded.height
    )
    with storage.staged_files() as staged:
        variant.image.name = staged.save(
            storage.media_key(org_id, event_id, encoded.format), encoded.data
        )
        variant.thumbnail.name = staged.save(
            storage.media_key(org_id, event_id, "JPEG"), encoded.thumbnail
        )
        try:
            with transaction.atomic():
                variant.save()
        except IntegrityError:
            # Another run stored this filter first; keep theirs, drop our files.
            staged.discard()
            variant.pk = None
    return variant


def finish_session(session: BoothSession, layouts: Sequence[str] = ()) -> BoothSession:
    """Close the session and queue its strips (``layouts``, default the event's).

    Finishing twice is harmless: no strip is created twice. Raises NothingToFinish (409)
    for a session without captures. On commit, the task ``captures.tasks.render_strips``
    is queued.
    """
    with transaction.atomic():
        locked = BoothSession.objects.select_for_update().select_related("event").get(pk=session.pk)
        if not locked.captures.visible().exists():
            msg = "Take at least one photo before finishing the session."
            raise NothingToFinish(msg)
        if locked.status == BoothSession.Status.OPEN:
            locked.status = BoothSession.Status.FINISHED
            locked.finished_at = timezone.now()
            locked.save(update_fields=["status", "finished_at"])
        strip_filter = locked.event.strip_filter
        if strip_filter not in imaging.FILTERS:
            strip_filter = ""
        for layout in layouts or enabled_layouts(locked.event):
            Strip.objects.get_or_create(
                session=locked, layout=layout, filter=strip_filter, defaults={"event": locked.event}
            )
        enqueue_on_commit("captures.tasks.render_strips", locked.pk)
    session.status, session.finished_at = locked.status, locked.finished_at
    return session


def build_strips(session: BoothSession) -> list[Strip]:
    """Render every pending strip of ``session`` from its visible captures (up to 4).

    A strip already rendered is left alone, so a retried task does no work twice. An
    error (a capture's file unreadable, storage down) propagates to the task, which
    retries storage errors; the strips stay pending meanwhile. The event's logo, if it
    has one, goes in the footer of layouts that have a band; a logo file that has gone
    missing is logged and the strips render without it.
    """
    pending = list(session.strips.filter(status=RenderStatus.PENDING))
    if not pending:
        return []
    captures = list(session.captures.visible().order_by("taken_at", "pk")[:4])
    adjust = event_adjustments(session.event)
    originals = [imaging.apply_adjustments(_load(c.image.name), adjust) for c in captures]
    logo = _load_logo(session.event)
    return [_store_strip(strip, originals, logo) for strip in pending]


def _load_logo(event: Event) -> Image.Image | None:
    if not event.logo.name:
        return None
    try:
        return _load(event.logo.name, rgb=False)  # keep the logo's transparency
    except FileNotFoundError:
        logger.warning("The logo of event %s is missing; strips render without it.", event.pk)
        return None


def _store_strip(strip: Strip, originals: Sequence[Image.Image], logo: Image.Image | None) -> Strip:
    event = strip.event
    encoded = imaging.render_strip_file(
        originals,
        strip.layout,
        filter_name=strip.filter,
        title=event.name if strip.layout == "classic_2x6" else None,
        logo=logo,
        fmt=settings.BOOTHSITE_VARIANT_FORMAT,
        quality=settings.BOOTHSITE_JPEG_QUALITY,
        thumb_side=settings.BOOTHSITE_THUMBNAIL_SIDE * 2,
    )
    org_id, event_id = event.organiser.public_id, event.public_id
    with storage.staged_files() as staged:
        image_name = staged.save(storage.media_key(org_id, event_id, encoded.format), encoded.data)
        thumb_name = staged.save(storage.media_key(org_id, event_id, "JPEG"), encoded.thumbnail)
        updated = Strip.objects.filter(pk=strip.pk, status=RenderStatus.PENDING).update(
            status=RenderStatus.READY,
            image=image_name,
            thumbnail=thumb_name,
            width=encoded.width,
            height=encoded.height,
        )
        if not updated:
            staged.discard()
    strip.refresh_from_db()
    return strip


def update_branding(
    event: Event,
    *,
    welcome_text: str,
    brand_color: str,
    logo: bytes | None = None,
    remove_logo: bool = False,
) -> Event:
    """Set what the kiosk's attract screen and the strip footers show for ``event``.

    ``logo`` (PNG or JPEG bytes) replaces the event's logo; ``remove_logo`` drops it.
    A logo is decoded like a capture upload (``imaging.decode_logo``: the same limits,
    no metadata kept, transparency kept) and re-encoded, then stored under a random
    key ``<organiser uuid>/<event uuid>/<uuid4>.<ext>``, never the client's file name.
    The replaced file is deleted after the commit. Strips rendered from now on carry
    the new logo; strips already made keep theirs.

    Raises imaging.InvalidImage (with a user-facing message) for a bad logo, before
    anything is stored or changed.
    """
    encoded: tuple[bytes, str] | None = None
    if logo is not None:
        decoded = imaging.decode_logo(logo)
        quality = settings.BOOTHSITE_JPEG_QUALITY
        encoded = (
            imaging.encode_image(decoded.image, decoded.format, quality=quality),
            decoded.format,
        )
    old_logo = event.logo.name
    event.welcome_text, event.brand_color = welcome_text, brand_color
    fields = ["welcome_text", "brand_color"]
    with storage.staged_files() as staged:
        if encoded is not None:
            data, fmt = encoded
            key = storage.media_key(event.organiser.public_id, event.public_id, fmt)
            event.logo.name = staged.save(key, data)
            fields.append("logo")
        elif remove_logo:
            event.logo.name = ""
            fields.append("logo")
        with transaction.atomic():
            event.save(update_fields=fields)
            if old_logo and event.logo.name != old_logo:
                transaction.on_commit(lambda: storage.delete_quietly(old_logo))
    return event


def update_booth_camera(
    booth: Booth,
    *,
    width: int,
    height: int,
    mirror: bool,
    brightness: float | None,
    contrast: float | None,
    zoom: float | None,
) -> Booth:
    """Save the camera settings the booth's kiosk applies, and push them to it live.

    After the commit, ``live.push_camera_settings`` sends them to the booth's running
    kiosks over the channel layer, best effort: a layer that is down is logged and the
    settings still count, since a kiosk reads them again from ``me/`` when it loads.
    """
    booth.camera_width, booth.camera_height, booth.camera_mirror = width, height, mirror
    booth.camera_brightness, booth.camera_contrast, booth.camera_zoom = brightness, contrast, zoom
    with transaction.atomic():
        booth.save(update_fields=Booth.CAMERA_FIELDS)
        transaction.on_commit(lambda: live.push_camera_settings(booth), robust=True)
    return booth
