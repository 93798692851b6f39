"""The console's live monitor pages (login required): an organiser's booths, or one event's.

The page renders each booth's state as it is when it loads (``monitor.build_snapshot``),
then ``static/console-monitor.js`` opens the monitor socket (``captures.monitor``) and
keeps it up to date as the booths push it. Access goes through ``events.access`` with
``Perm.VIEW``: another organiser's slug, or an event that is not this organiser's,
answers 404 like a missing one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET

from captures import live, monitor
from events import access
from events.models import Event, Organiser
from events.roles import Perm


def _when(value: str | None) -> dt.datetime | None:
    return parse_datetime(value) if value else None


def _page(request: HttpRequest, organiser: Organiser, event: Event | None) -> HttpResponse:
    snapshot = monitor.build_snapshot(organiser, event)
    booths = [
        {
            **state,
            "seen": _when(state["last_seen_at"]),
            "taken": _when(state["last_capture"]["taken_at"] if state["last_capture"] else None),
        }
        for state in snapshot.booths
    ]
    captures = [{**capture, "taken": _when(capture["taken_at"])} for capture in snapshot.captures]
    socket_path = f"/ws/console/{organiser.slug}/" + (f"{event.slug}/" if event else "")
    events = (
        Event.objects.for_organiser(organiser)
        .filter(archived_at__isnull=True, booths__isnull=False, booths__revoked_at__isnull=True)
        .distinct()
        .order_by("name")
    )
    context: dict[str, Any] = {
        "organiser": organiser,
        "event": event,
        "booths": booths,
        "captures": captures,
        "socket_path": socket_path,
        "events": events,
        "presence_refresh": live.PRESENCE_REFRESH_SECONDS,
    }
    return render(request, "captures/monitor.html", context)


@login_required
@require_GET
def organiser_monitor(request: HttpRequest, organiser_slug: str) -> HttpResponse:
    """Show every usable booth of the organiser live: online, smiles, queue, captures."""
    organiser = access.access_organiser(request.user, organiser_slug, perm=Perm.VIEW)
    return _page(request, organiser, None)


@login_required
@require_GET
def event_monitor(request: HttpRequest, organiser_slug: str, event_slug: str) -> HttpResponse:
    """Show the booths serving one event live, and the event's new captures."""
    event = access.access_event(request.user, organiser_slug, event_slug, perm=Perm.VIEW)
    return _page(request, event.organiser, event)
