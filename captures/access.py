"""Fetch and authorise booth sessions and captures.

A session is reachable only by the booth that started it (and through its secret share
token); a capture in the console only through its event (``access_capture_for_event``).
Missing, malformed and foreign ids all raise the same Http404. Hidden captures are shown
to no guest: not in the gallery, the share page, the ZIP or the slideshow, and their
files are not served (``media_denied``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from captures.models import BoothSession, Capture, CaptureQuerySet, RenderStatus, Strip
from events.access import (
    SHARE_GONE_MESSAGE,
    is_retired_link,
    past_retention,
    public_id_or_404,
)
from events.exceptions import LinkGone
from events.models import Booth, Event, Membership, RetiredLink

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


def access_session_for_booth(booth: Booth, session_id: object) -> BoothSession:
    """Return the session with public id ``session_id`` started by ``booth``.

    Raises Http404 when the id is malformed, unknown, another booth's or another
    organiser's: one answer for all four.
    """
    session = (
        BoothSession.objects.for_organiser(booth.organiser)
        .for_booth(booth)
        .select_related("event", "event__organiser", "booth")
        .filter(public_id=public_id_or_404(session_id))
        .first()
    )
    if session is None:
        raise Http404
    return session


def access_capture_for_booth(booth: Booth, capture_id: object) -> Capture:
    """Return the capture with public id ``capture_id`` taken by ``booth``; else Http404."""
    capture = (
        Capture.objects.for_organiser(booth.organiser)
        .filter(session__booth=booth, public_id=public_id_or_404(capture_id))
        .select_related("session", "event")
        .first()
    )
    if capture is None:
        raise Http404
    return capture


def access_session_by_share_token(token: str) -> BoothSession:
    """Return the session whose guest link carries ``token``.

    Raises one and the same Http404 for a token that never worked and for a session
    whose event is archived; LinkGone (410) for a link that worked once: its session
    is past the event's retention, or only its hash is left (``RetiredLink``, kind
    share). One query, two on a miss.
    """
    session = (
        BoothSession.objects.select_related("event", "event__organiser")
        .filter(share_token=token)
        .first()
    )
    if session is None:
        if token and is_retired_link(RetiredLink.Kind.SHARE, token):
            raise LinkGone(SHARE_GONE_MESSAGE)
        raise Http404
    if session.event.archived_at is not None:
        raise Http404
    if past_retention(session.event):
        raise LinkGone(SHARE_GONE_MESSAGE)
    return session


def session_with_media(session: BoothSession) -> BoothSession:
    """Reload an authorised ``session`` with its captures, variants and strips prefetched."""
    return (
        BoothSession.objects.for_event(session.event)
        .select_related("event", "event__organiser")
        .prefetch_related(
            Prefetch("captures", queryset=Capture.objects.prefetch_related("variants")),
            "strips",
        )
        .get(pk=session.pk)
    )


def share_page_media(session: BoothSession) -> tuple[list[Capture], list[Strip]]:
    """Return what an authorised ``session``'s guest page shows: captures and strips.

    The captures are the visible ones, oldest first, variants prefetched; the strips all
    of the session's (pending, ready or failed), oldest first. Three queries whatever
    the number of photos.
    """
    captures = Capture.objects.for_event(session.event).visible().filter(session=session)
    strips = Strip.objects.for_event(session.event).filter(session=session)
    return (
        list(captures.prefetch_related("variants").order_by("taken_at", "pk")),
        list(strips.order_by("created_at", "pk")),
    )


def capture_with_variants(capture: Capture) -> Capture:
    """Reload an authorised ``capture`` with its variants prefetched."""
    return Capture.objects.for_event(capture.event).prefetch_related("variants").get(pk=capture.pk)


def media_numbers(event: Event) -> tuple[dict[int, int], dict[int, int]]:
    """Return the 1-based place in ``event`` of each capture and of each strip, by pk.

    Captures count in ``taken_at`` order, strips in ``created_at`` order (then pk),
    hidden captures and unrendered strips too, so a photo keeps its number when another
    is hidden or shown again. The numbers name the guest's downloads
    ("summer-party-0042.jpg"). Two queries of ids only (4 bytes a row), whatever the
    page: cheaper than counting the rows before each photo of a page.
    """
    captures = Capture.objects.for_event(event).order_by("taken_at", "pk")
    strips = Strip.objects.for_event(event).order_by("created_at", "pk")
    return (
        {pk: n for n, pk in enumerate(captures.values_list("pk", flat=True), 1)},
        {pk: n for n, pk in enumerate(strips.values_list("pk", flat=True), 1)},
    )


def gallery_sessions(event: Event) -> QuerySet[BoothSession]:
    """Return the event's sessions that have visible photos, newest first, media prefetched.

    Each session's ``strips.all()`` are its rendered strips and ``captures.all()`` its
    visible captures (oldest first, variants prefetched). A page of sessions costs four
    queries (sessions, captures, variants, strips) plus the paginator's count, whatever
    the number of sessions or photos; "has a visible photo" is an EXISTS, not a join.
    """
    captures = Capture.objects.for_event(event).visible()
    strips = Strip.objects.for_event(event).filter(status=RenderStatus.READY)
    shown = Capture.objects.filter(session=OuterRef("pk"), hidden=False)
    return (
        BoothSession.objects.for_event(event)
        .filter(Exists(shown))
        .order_by("-started_at", "-pk")
        .prefetch_related(
            Prefetch(
                "captures",
                queryset=captures.prefetch_related("variants").order_by("taken_at", "pk"),
            )
        )
        .prefetch_related(Prefetch("strips", queryset=strips.order_by("created_at", "pk")))
    )


def access_capture_for_event(event: Event, capture_id: object) -> Capture:
    """Return the capture with public id ``capture_id`` taken at ``event``, hidden or not.

    The caller has authorised ``event`` (``events.access.access_event``). Raises Http404
    when the id is malformed, unknown, or another event's (of this organiser or another).
    """
    capture = (
        Capture.objects.for_event(event)
        .select_related("session", "session__booth", "event", "event__organiser")
        .filter(public_id=public_id_or_404(capture_id))
        .first()
    )
    if capture is None:
        raise Http404
    return capture


def event_captures(event: Event) -> CaptureQuerySet:
    """Return every capture of ``event``, hidden ones too, newest first, for the console.

    Each carries its session and booth (joined), so a page of them costs one query.
    """
    return (
        Capture.objects.for_event(event).select_related("session", "session__booth").newest_first()
    )


def slideshow_captures(event: Event) -> QuerySet[Capture]:
    """Return what the event's slideshow shows: visible captures, rendered, newest first."""
    return (
        Capture.objects.for_event(event)
        .visible()
        .filter(render_status=RenderStatus.READY)
        .newest_first()
    )


def slideshow_strips(event: Event) -> QuerySet[Strip]:
    """Return the event's rendered strips with an image, newest first, for the slideshow.

    A strip is made only from its session's visible captures, and is set pending again
    (its image forgotten) whenever one of them is hidden or deleted.
    """
    return (
        Strip.objects.for_event(event)
        .filter(status=RenderStatus.READY)
        .exclude(image="")
        .order_by("-created_at", "-pk")
    )


# ---- Which stored files may be served (issue 14.4) ----


class MediaDenial(StrEnum):
    """Why ``media_denied`` refuses a stored file; ``status`` is the HTTP answer."""

    HIDDEN = "hidden"
    ARCHIVED = "archived"
    RETENTION = "retention"

    @property
    def status(self) -> int:
        """410 past retention (the photos were there once), else 404."""
        return 410 if self is MediaDenial.RETENTION else 404


def media_denied(name: str, now: dt.datetime | None = None) -> MediaDenial | None:
    """Tell why the stored file ``name`` must not be served to a guest, or None.

    Refused: the files of a hidden capture (original, thumbnail, a variant's image or
    thumbnail), and every file of an archived event or of one past its retention
    (``events.access.past_retention``, even once the rows are purged). The event's
    logo is never refused (the kiosk shows it). A gallery switched off refuses no
    file here: every photo is also some guest's own, on their share page and the
    kiosk, which stay ("Off closes the gallery; the guests' own pages stay"). It stops
    handing out URLs instead (the gallery page answers 404), and the URLs it handed out
    die within ``BOOTHSITE_MEDIA_URL_TTL``: local URLs are signed and short-lived
    (``boothsite.media_storage``, checked by the media view before this), S3's
    presigned.

    Keys are ``<organiser uuid>/<event uuid>/<uuid4>.<ext>`` (``storage.media_key``), so
    one query on that one event answers (the partial index ``capture_hidden_event``
    for hidden captures). A name of another shape is no capture's file: None.
    """
    parts = name.split("/")
    if len(parts) != 3:
        return None
    try:
        event_id = uuid.UUID(parts[1])
    except ValueError:
        return None
    named = Q(image=name) | Q(thumbnail=name) | Q(variants__image=name)
    named |= Q(variants__thumbnail=name)
    hidden = Capture.objects.filter(event=OuterRef("pk"), hidden=True).filter(named)
    row = (
        Event.objects.filter(public_id=event_id)
        .annotate(hidden_file=Exists(hidden))
        .values("logo", "archived_at", "ends_at", "starts_at", "retention_days", "hidden_file")
        .first()
    )
    if row is None or (row["logo"] and row["logo"] == name):
        return None
    if row["archived_at"] is not None:
        return MediaDenial.ARCHIVED
    cutoff = (row["ends_at"] or row["starts_at"]) + dt.timedelta(days=row["retention_days"])
    if cutoff <= (now or timezone.now()):
        return MediaDenial.RETENTION
    if row["hidden_file"]:
        return MediaDenial.HIDDEN
    return None


def member_may_see_media(user: AbstractBaseUser | AnonymousUser, name: str) -> bool:
    """Tell whether ``user`` belongs to the organiser of the event the file ``name`` is of.

    For the console (``captures.public_views.media``), which shows an archived event's
    photos to its team. One query; a name of another shape gives False.
    """
    parts = name.split("/")
    if len(parts) != 3 or not user.is_authenticated:
        return False
    try:
        event_id = uuid.UUID(parts[1])
    except ValueError:
        return False
    members = Membership.objects.filter(user_id=user.pk, organiser__events__public_id=event_id)
    return members.exists()
