"""Writes and business rules for booth sessions, captures, variants and strips.

Entry points pass already-authorised objects. Files are written before the rows that
name them and removed again if the rows cannot be written, so a failure leaves neither a
half-written row nor an orphaned file. Rendering is queued after the commit through
``boothsite.celery.enqueue_on_commit``, by task name (``captures.tasks`` imports this
module, never the other way round). The pending state written with the rows is the
record that a render is due: ``sweep_renders`` queues again what a down broker or a
lost task left pending, and failed renders are recorded, never left pending.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from io import BytesIO

from botocore.exceptions import BotoCoreError  # type: ignore[import-untyped]
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from PIL import Image

from boothsite.celery import enqueue_on_commit
from captures import imaging, live, storage
from captures.exceptions import (
    BoothNotAssigned,
    CaptureLimitReached,
    NothingToFinish,
    SessionClosed,
    StorageUnavailable,
)
from captures.models import BoothSession, Capture, CaptureVariant, RenderStatus, Strip
from events import webhooks
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

    Raises BoothNotAssigned (409) when the booth serves no event, an archived one or
    (set around the models' checks) another organiser's, and ValueError when an
    explicit ``event`` belongs to another organiser. Nothing is recorded then.
    """
    if event is not None and event.organiser_id != booth.organiser_id:
        msg = "The event belongs to another organiser."
        raise ValueError(msg)
    event = event or booth.current_event
    if event is not None and event.organiser_id != booth.organiser_id:
        logger.warning("Booth %s points at another organiser's event; refused", booth.public_id)
        event = None
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
                render_attempts=1,
                render_enqueued_at=timezone.now(),
            )
            enqueue_on_commit(
                "captures.tasks.render_variants",
                capture.pk,
                on_unsent=_unqueued_capture(capture.pk),
            )
    return capture


def _unqueued_capture(capture_id: int) -> Callable[[], int]:
    """Return a hook that marks a pending capture's render as never queued (for the sweep)."""

    def mark() -> int:
        pending = Capture.objects.filter(pk=capture_id, render_status=RenderStatus.PENDING)
        return pending.update(render_enqueued_at=None)

    return mark


def _unqueued_strips(session_id: int) -> Callable[[], int]:
    """Return a hook that marks a session's pending strips as never queued (for the sweep)."""

    def mark() -> int:
        pending = Strip.objects.filter(session_id=session_id, status=RenderStatus.PENDING)
        return pending.update(render_enqueued_at=None)

    return mark


def _check_open(session: BoothSession) -> None:
    if session.status != BoothSession.Status.OPEN:
        msg = "This session is finished; start a new one."
        raise SessionClosed(msg)
    limit = session.event.captures_per_session
    if session.captures.count() >= limit:
        msg = f"This session already has {limit} photos, the most this event allows."
        raise CaptureLimitReached(msg)


def _load(name: str, *, rgb: bool = True) -> Image.Image:
    """Read a stored image and decode it.

    Storage errors propagate as they are (OSError: transient, retried; a missing file
    is FileNotFoundError: permanent). A file that no longer decodes raises
    imaging.InvalidImage, which is permanent: Pillow reports corrupt and truncated
    files as OSError, which would otherwise be retried as if storage were at fault.
    """
    with default_storage.open(name, "rb") as stored:
        raw = stored.read()
    try:
        image = Image.open(BytesIO(raw), formats=imaging.ALLOWED_FORMATS)
        image.load()
    except Exception as exc:
        raise imaging.InvalidImage("invalid_image") from exc
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
    Capture.objects.filter(pk=capture.pk).update(
        render_status=RenderStatus.READY, render_error="", render_retryable=False
    )
    capture.render_status = RenderStatus.READY
    live.announce_capture_ready(capture)
    webhooks.capture_ready(capture)
    return [variant for variant in created if variant.pk]


def _store_variant(capture: Capture, name: str, encoded: imaging.EncodedImage) -> CaptureVariant:
    event = capture.event
    org_id, event_id = event.organiser.public_id, event.public_id
    variant = CaptureVariant(
        capture=capture, event=event, filter=name, width=encoded.width, height=encoded.height
    )
    variant.size_bytes = len(encoded.data)  # for ZIPs' lengths (captures.archive)
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
            webhooks.session_finished(locked)
        strip_filter = locked.event.strip_filter
        if strip_filter not in imaging.FILTERS:
            strip_filter = ""
        for layout in layouts or enabled_layouts(locked.event):
            Strip.objects.get_or_create(
                session=locked,
                layout=layout,
                filter=strip_filter,
                defaults={
                    "event": locked.event,
                    "render_attempts": 1,
                    "render_enqueued_at": timezone.now(),
                },
            )
        enqueue_on_commit(
            "captures.tasks.render_strips", locked.pk, on_unsent=_unqueued_strips(locked.pk)
        )
    session.status, session.finished_at = locked.status, locked.finished_at
    return session


def build_strips(session: BoothSession) -> list[Strip]:
    """Render every pending strip of ``session`` from its visible captures (up to 4).

    A strip already rendered is left alone, so a retried task does no work twice. An
    error (a capture's file unreadable, storage down) propagates to the task, which
    retries storage errors; the strips stay pending meanwhile, and end failed
    (``mark_strips_failed``) when the task gives up. The event's logo, if it has one,
    goes in the footer of layouts that have a band; a logo file that has gone missing or
    no longer decodes is logged and the strips render without it. The strips stored are
    announced to open slideshows (``live.announce_strips_ready``, after the commit).
    """
    pending = list(session.strips.filter(status=RenderStatus.PENDING))
    if not pending:
        return []
    captures = list(session.captures.visible().order_by("taken_at", "pk")[:4])
    adjust = event_adjustments(session.event)
    originals = [imaging.apply_adjustments(_load(c.image.name), adjust) for c in captures]
    logo = _load_logo(session.event)
    stored = [_store_strip(strip, originals, logo) for strip in pending]
    ready = [strip.public_id for strip in stored if strip.status == RenderStatus.READY]
    live.announce_strips_ready(session.event, ready)  # to open slideshows
    return stored


def _load_logo(event: Event) -> Image.Image | None:
    if not event.logo.name:
        return None
    try:
        return _load(event.logo.name, rgb=False)  # keep the logo's transparency
    except (FileNotFoundError, imaging.InvalidImage):
        logger.warning("The logo of event %s is unreadable; strips render without it.", event.pk)
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
        # The animated layout: ``image`` is a looping WebP, ``gif`` the same as GIF.
        gif_key = storage.media_key(org_id, event_id, "GIF")
        gif_name = staged.save(gif_key, encoded.gif) if encoded.gif else ""
        # A strip asked for again meanwhile (a photo hidden, shown or deleted: its
        # ``render_enqueued_at`` moved) keeps waiting for the render that follows.
        updated = Strip.objects.filter(
            pk=strip.pk, status=RenderStatus.PENDING, render_enqueued_at=strip.render_enqueued_at
        ).update(
            status=RenderStatus.READY,
            render_error="",
            render_retryable=False,
            image=image_name,
            thumbnail=thumb_name,
            width=encoded.width,
            height=encoded.height,
            size_bytes=len(encoded.data),  # for ZIPs' lengths (captures.archive)
            gif=gif_name,
            gif_size_bytes=len(encoded.gif),
        )
        if not updated:
            staged.discard()
    strip.refresh_from_db()
    if updated:
        webhooks.strip_ready(strip)
    return strip


#: The ``render_error`` of a row the sweeper gave up on: queued its allowed number of
#: times (``BOOTHSITE_RENDER_MAX_ATTEMPTS``) and never rendered.
GAVE_UP = "GaveUp"
#: Rows of each kind one sweep looks at, at most: the rest wait for the next sweep.
SWEEP_BATCH = 200


#: Render errors that may pass by themselves: storage that is down, slow or full.
#: OSError covers local disks and S3 timeouts (botocore's are requests' OSErrors);
#: BotoCoreError covers S3 connection errors, which are not; StorageUnavailable is the
#: storage failure the upload path reports (503).
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (OSError, BotoCoreError, StorageUnavailable)
#: Transient in type, permanent in fact: the file is gone.
PERMANENT_ERRORS: tuple[type[Exception], ...] = (FileNotFoundError,)


def is_transient(exc: BaseException) -> bool:
    """Whether a render error may pass by itself, so the render is worth queueing again.

    True for ``TRANSIENT_ERRORS`` (a connection refused, a timeout, a full disk) except
    ``PERMANENT_ERRORS`` (a file that is gone); False for an original that no longer
    decodes (imaging.InvalidImage, a ValueError) and anything else (bugs, time limits).
    """
    return isinstance(exc, TRANSIENT_ERRORS) and not isinstance(exc, PERMANENT_ERRORS)


def _error_name(exc: BaseException) -> str:
    return type(exc).__name__[:64]


def mark_capture_failed(capture_id: int, exc: BaseException) -> bool:
    """Record that the variants of a pending capture could not be rendered.

    Sets ``render_status`` failed, ``render_error`` to the exception's class name and
    ``render_retryable`` to ``is_transient(exc)``. A capture that is no longer pending
    (rendered by another run meanwhile, or deleted) is left alone. Returns whether the
    capture was marked.
    """
    marked = Capture.objects.filter(pk=capture_id, render_status=RenderStatus.PENDING).update(
        render_status=RenderStatus.FAILED,
        render_error=_error_name(exc),
        render_retryable=is_transient(exc),
    )
    if marked:
        logger.warning("Capture %s could not be rendered (%s).", capture_id, _error_name(exc))
    return bool(marked)


def mark_strips_failed(session_id: int, exc: BaseException) -> int:
    """Record that a session's pending strips could not be rendered; return how many.

    The same record as ``mark_capture_failed``; strips already rendered stay ready.
    """
    marked = Strip.objects.filter(session_id=session_id, status=RenderStatus.PENDING).update(
        status=RenderStatus.FAILED,
        render_error=_error_name(exc),
        render_retryable=is_transient(exc),
    )
    if marked:
        logger.warning(
            "%d strip(s) of session %s could not be rendered (%s).",
            marked,
            session_id,
            _error_name(exc),
        )
    return marked


@dataclass(frozen=True)
class RenderSweep:
    """What one ``sweep_renders`` did: tasks queued again, and rows given up on."""

    captures_queued: int
    strip_sessions_queued: int
    given_up: int


def _sweep_due(now: dt.datetime) -> tuple[Q, Q]:
    """Return the filters (captures, strips) of rows due for the sweeper at ``now``."""
    cutoff = now - dt.timedelta(seconds=settings.BOOTHSITE_SWEEP_AFTER_SECONDS)
    stale = Q(render_enqueued_at__isnull=True) | Q(render_enqueued_at__lt=cutoff)
    pending, failed = RenderStatus.PENDING, RenderStatus.FAILED
    retryable = Q(render_retryable=True)
    captures = (Q(render_status=pending) | (Q(render_status=failed) & retryable)) & stale
    strips = (Q(status=pending) | (Q(status=failed) & retryable)) & stale
    return captures, strips


def sweep_renders(now: dt.datetime | None = None) -> RenderSweep:
    """Queue again the renders that waited too long; give up on those out of attempts.

    A capture or strip is due when it is pending, or failed with a transient error
    (``render_retryable``), and its task was queued more than
    ``BOOTHSITE_SWEEP_AFTER_SECONDS`` ago (or never: rows from before this record).
    Pending this long means its task was lost: the broker was down or silent at the
    commit (``boothsite.celery.publish``), or the worker died unseen. A due row with
    attempts left (``render_attempts < BOOTHSITE_RENDER_MAX_ATTEMPTS``) is set pending
    with one attempt more and ``render_enqueued_at`` now, and its task is queued after
    the commit: ``render_variants`` per capture, ``render_strips`` once per session. A
    due row out of attempts ends failed and not retryable (a pending one with
    ``render_error`` ``GAVE_UP``). Permanent failures (a corrupt image) are never due.

    Rows are claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite has a
    single writer), at most ``SWEEP_BATCH`` of each kind per run, so two sweeps at once
    never queue one row twice. A task queued twice anyway is harmless: renders skip
    what is stored.
    """
    now = now or timezone.now()
    due_captures, due_strips = _sweep_due(now)
    limit = settings.BOOTHSITE_RENDER_MAX_ATTEMPTS
    with transaction.atomic():
        captures = list(
            Capture.objects.select_for_update(skip_locked=True)
            .filter(due_captures)
            .order_by("pk")
            .values_list("pk", "render_attempts")[:SWEEP_BATCH]
        )
        strips = list(
            Strip.objects.select_for_update(skip_locked=True)
            .filter(due_strips)
            .order_by("pk")
            .values_list("pk", "session_id", "render_attempts")[:SWEEP_BATCH]
        )
        again = [pk for pk, attempts in captures if attempts < limit]
        strips_again = [(pk, session) for pk, session, attempts in strips if attempts < limit]
        given_up = _give_up(
            Capture.objects.filter(pk__in=[pk for pk, attempts in captures if attempts >= limit]),
            "render_status",
        ) + _give_up(
            Strip.objects.filter(pk__in=[pk for pk, _, attempts in strips if attempts >= limit]),
            "status",
        )
        Capture.objects.filter(pk__in=again).update(
            render_status=RenderStatus.PENDING,
            render_attempts=F("render_attempts") + 1,
            render_enqueued_at=now,
        )
        Strip.objects.filter(pk__in=[pk for pk, _ in strips_again]).update(
            status=RenderStatus.PENDING,
            render_attempts=F("render_attempts") + 1,
            render_enqueued_at=now,
        )
        for pk in again:
            enqueue_on_commit("captures.tasks.render_variants", pk, on_unsent=_unqueued_capture(pk))
        sessions = sorted({session for _, session in strips_again})
        for session_id in sessions:
            enqueue_on_commit(
                "captures.tasks.render_strips", session_id, on_unsent=_unqueued_strips(session_id)
            )
    if again or sessions or given_up:
        logger.info(
            "Render sweep: %d capture(s) and %d session(s) of strips queued again, %d given up.",
            len(again),
            len(sessions),
            given_up,
        )
    return RenderSweep(
        captures_queued=len(again), strip_sessions_queued=len(sessions), given_up=given_up
    )


def _give_up(rows: QuerySet[Capture] | QuerySet[Strip], status_field: str) -> int:
    """Mark ``rows`` failed for good: failed ones keep their error, pending ones ``GAVE_UP``."""
    failed = rows.filter(**{status_field: RenderStatus.FAILED}).update(render_retryable=False)
    pending = rows.filter(**{status_field: RenderStatus.PENDING}).update(
        **{status_field: RenderStatus.FAILED}, render_error=GAVE_UP, render_retryable=False
    )
    return failed + pending


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


# --- Moderation (the console's captures page): hide, show again, delete. ---------------


def hide_capture(capture: Capture) -> bool:
    """Hide ``capture`` from guests and render its session's strips again without it.

    A hidden capture leaves the gallery, the share page, the ZIP and the slideshow, and
    ``/media/`` answers 404 for its original, its thumbnail and every variant's files
    (``captures.access.media_denied``). The files are kept, for ``unhide_capture``.
    The session's strips are rendered again from its other photos
    (``rebuild_session_strips``). Open slideshows drop it and those strips at once
    (``live.announce_capture_hidden``, after the commit). Returns False, changing
    nothing, when it was hidden already.
    """
    return _set_hidden(capture, hidden=True)


def unhide_capture(capture: Capture) -> bool:
    """Show a hidden ``capture`` again, and render its session's strips again with it.

    Undoes ``hide_capture``: guests see it again, its media URLs answer again, and open
    slideshows show it again (``live.announce_capture_shown``). Returns False, changing
    nothing, when it was not hidden.
    """
    return _set_hidden(capture, hidden=False)


def _set_hidden(capture: Capture, *, hidden: bool) -> bool:
    with transaction.atomic():
        session = _lock_session(capture.session_id)
        changed = Capture.objects.filter(pk=capture.pk, hidden=not hidden).update(hidden=hidden)
        if changed:
            if hidden:  # open slideshows drop it, and the strips rendered again without it
                strip_ids = list(session.strips.values_list("public_id", flat=True))
                # Before the strips' render is queued: on-commit work runs in that order.
                live.announce_capture_hidden(session.event, capture.public_id, strip_ids)
            else:
                live.announce_capture_shown(session.event, capture.public_id)
            rebuild_session_strips(session)
    capture.hidden = hidden
    return bool(changed)


def delete_capture(capture: Capture) -> None:
    """Delete ``capture`` and its variants, with their files, and rebuild its session's strips.

    The files (original, thumbnail, each variant's image and thumbnail) are deleted after
    the commit by ``captures.signals``; a rolled-back delete keeps them. When the capture
    was visible, the session's strips are rendered again without it
    (``rebuild_session_strips``), and open slideshows drop it and them
    (``live.announce_capture_hidden``). Deleting a capture already gone does nothing.
    """
    with transaction.atomic():
        session = _lock_session(capture.session_id)
        was_hidden = Capture.objects.filter(pk=capture.pk).values_list("hidden", flat=True).first()
        if was_hidden is None:
            return
        if not was_hidden:  # before the strips' render is queued, as in _set_hidden
            strip_ids = list(session.strips.values_list("public_id", flat=True))
            live.announce_capture_hidden(session.event, capture.public_id, strip_ids)
        Capture.objects.filter(pk=capture.pk).delete()
        if not was_hidden:
            rebuild_session_strips(session)


def _lock_session(session_id: int) -> BoothSession:
    """Lock a session row: its captures' visibility and its strips change one at a time."""
    return (
        BoothSession.objects.select_for_update()
        .select_related("event", "event__organiser")
        .get(pk=session_id)
    )


def rebuild_session_strips(session: BoothSession) -> int:
    """Render ``session``'s strips again from its visible captures; return how many are due.

    Call inside the transaction that changed the captures, with the session locked
    (``select_for_update``). Nothing happens to an open session (its strips are made when
    it finishes). Each strip is set pending again with one attempt and a new
    ``render_enqueued_at`` (a render already running for it is then discarded, not
    stored), its old files are forgotten and deleted after the commit, and the task
    ``captures.tasks.render_strips`` is queued after the commit. A session left with no
    visible capture loses its strips (rows and files); a finished session that has none
    gets the event's strip layouts again, as ``finish_session`` makes them.
    """
    if session.status != BoothSession.Status.FINISHED:
        return 0
    strips = list(session.strips.all())
    old_files = [
        name
        for strip in strips
        for name in (strip.image.name, strip.thumbnail.name, strip.gif.name)
    ]
    if not session.captures.visible().exists():
        session.strips.all().delete()  # captures.signals deletes the files on commit
        return 0
    now = timezone.now()
    if strips:
        count = session.strips.update(
            status=RenderStatus.PENDING,
            image="",
            thumbnail="",
            gif="",
            gif_size_bytes=0,
            width=0,
            height=0,
            render_attempts=1,
            render_enqueued_at=now,
            render_error="",
            render_retryable=False,
        )
    else:
        strip_filter = session.event.strip_filter
        if strip_filter not in imaging.FILTERS:
            strip_filter = ""
        layouts = enabled_layouts(session.event)
        Strip.objects.bulk_create(
            Strip(
                session=session,
                event=session.event,
                layout=layout,
                filter=strip_filter,
                render_attempts=1,
                render_enqueued_at=now,
            )
            for layout in layouts
        )
        count = len(layouts)
    stale = [name for name in old_files if name]

    def delete_old_files() -> None:
        for name in stale:
            storage.delete_quietly(name)

    if stale:
        transaction.on_commit(delete_old_files, robust=True)
    enqueue_on_commit(
        "captures.tasks.render_strips", session.pk, on_unsent=_unqueued_strips(session.pk)
    )
    return count


# --- Capture settings (the console's event capture page, issue 13.3) -------------------

#: The event fields ``update_capture_settings`` sets.
CAPTURE_SETTING_FIELDS = (
    "countdown_seconds",
    "smile_threshold",
    "captures_per_session",
    "auto_snap",
    "filters",
    "strip_layouts",
    "strip_filter",
    "brightness",
    "contrast",
    "saturation",
)


def _unknown(names: Sequence[str], known: Collection[str], what: str) -> str | None:
    unknown = [name for name in names if name not in known]
    if not unknown:
        return None
    listed = ", ".join(f"“{name}”" for name in unknown)
    return f"Unknown {what} {listed}. Choose among: {', '.join(known)}."


def update_capture_settings(
    event: Event,
    *,
    countdown_seconds: int,
    smile_threshold: float,
    captures_per_session: int,
    auto_snap: bool,
    filters: Sequence[str],
    strip_layouts: Sequence[str],
    strip_filter: str,
    brightness: float,
    contrast: float,
    saturation: float,
) -> Event:
    """Set how the event's booths snap and what its photos and strips are rendered with.

    ``filters`` and ``strip_layouts`` are names from ``imaging.FILTERS`` and
    ``imaging.STRIP_LAYOUTS``, stored in registry order without repeats; at least one
    layout is needed. ``strip_filter`` is "" (the strips show the originals) or a filter
    name. ``brightness``, ``contrast`` and ``saturation`` are 0.0 to 2.0 (1.0 leaves the
    photo as taken), ``smile_threshold`` 0.0 to 1.0, ``countdown_seconds`` 0 to 30 and
    ``captures_per_session`` 1 to 4. Kiosks use them from their next session; photos and
    strips rendered from now on follow them (the ones made keep theirs).

    Raises ValidationError by field (an unknown name, a value out of range, no layout);
    nothing is saved and the instance keeps its values then.
    """
    errors: dict[str, str] = {}
    for field, names, known, what in (
        ("filters", filters, imaging.FILTERS, "filter"),
        ("strip_layouts", strip_layouts, imaging.STRIP_LAYOUTS, "strip layout"),
        ("strip_filter", [strip_filter] if strip_filter else [], imaging.FILTERS, "filter"),
    ):
        problem = _unknown(names, known, what)
        if problem:
            errors[field] = problem
    if not strip_layouts:
        errors["strip_layouts"] = "Choose at least one strip layout."
    if errors:
        raise ValidationError(errors)
    changes: dict[str, object] = {
        "countdown_seconds": countdown_seconds,
        "smile_threshold": smile_threshold,
        "captures_per_session": captures_per_session,
        "auto_snap": auto_snap,
        "filters": [name for name in imaging.FILTERS if name in set(filters)],
        "strip_layouts": [name for name in imaging.STRIP_LAYOUTS if name in set(strip_layouts)],
        "strip_filter": strip_filter,
        "brightness": brightness,
        "contrast": contrast,
        "saturation": saturation,
    }
    before = {name: getattr(event, name) for name in changes}
    for name, value in changes.items():
        setattr(event, name, value)
    try:
        event.full_clean()
    except ValidationError:
        for name, value in before.items():
            setattr(event, name, value)
        raise
    event.save(update_fields=list(changes))
    return event
