"""Fetch and authorise booth sessions and captures.

A session is reachable only by the booth that started it (and through its secret share
token); a capture in the console only through its event (``access_capture_for_event``).
Missing, malformed and foreign ids all raise the same Http404. Hidden captures are shown
to no guest: not in the gallery, the share page, the ZIP or the slideshow, and their
files are not served (``is_hidden_media``).
"""

from __future__ import annotations

import uuid

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from captures.models import BoothSession, Capture, CaptureQuerySet, RenderStatus, Strip
from events.access import public_id_or_404
from events.models import Booth, Event


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

    Raises one and the same Http404 for an unknown token and for a session whose event
    is archived.
    """
    session = (
        BoothSession.objects.select_related("event", "event__organiser")
        .filter(share_token=token)
        .first()
    )
    if session is None:
        raise Http404
    if session.event.archived_at is not None:
        raise Http404
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


def capture_with_variants(capture: Capture) -> Capture:
    """Reload an authorised ``capture`` with its variants prefetched."""
    return Capture.objects.for_event(capture.event).prefetch_related("variants").get(pk=capture.pk)


def gallery_sessions(event: Event) -> QuerySet[BoothSession]:
    """Return the event's sessions that have visible photos, newest first, media prefetched.

    Only visible captures and rendered strips are included; the query count does not
    grow with the number of sessions.
    """
    captures = Capture.objects.for_event(event).visible().prefetch_related("variants")
    strips = Strip.objects.for_event(event).filter(status=RenderStatus.READY)
    return (
        BoothSession.objects.for_event(event)
        .filter(captures__hidden=False)
        .distinct()
        .order_by("-started_at", "-pk")
        .prefetch_related(Prefetch("captures", queryset=captures.order_by("taken_at", "pk")))
        .prefetch_related(Prefetch("strips", queryset=strips))
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
        .prefetch_related("variants")
        .newest_first()
    )


def is_hidden_media(name: str) -> bool:
    """Tell whether the stored file ``name`` belongs to a hidden capture.

    That is its original, its thumbnail, or a variant's image or thumbnail.

    Keys are ``<organiser uuid>/<event uuid>/<uuid4>.<ext>`` (``storage.media_key``), so
    only the hidden captures of that one event are looked at (the partial index
    ``capture_hidden_event``): one query. A name of another shape is no capture's file.
    """
    parts = name.split("/")
    if len(parts) != 3:
        return False
    try:
        event_id = uuid.UUID(parts[1])
    except ValueError:
        return False
    named = Q(image=name) | Q(thumbnail=name) | Q(variants__image=name)
    named |= Q(variants__thumbnail=name)
    return Capture.objects.filter(event__public_id=event_id).hidden().filter(named).exists()
