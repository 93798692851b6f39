"""Organiser console pages (login required)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from events import access
from events.roles import Perm


def home(request: HttpRequest) -> HttpResponse:
    """Show the landing page, or the console to a signed-in organiser."""
    if request.user.is_authenticated:
        return redirect("events:console")
    return render(request, "events/home.html")


@login_required
def console(request: HttpRequest) -> HttpResponse:
    """List the events and booths of every organiser the user belongs to."""
    scope = access.access_console(request.user)
    events = scope.events.annotate(session_count=Count("sessions", distinct=True)).order_by(
        "organiser__name", "-starts_at"
    )
    booths = scope.booths.order_by("organiser__name", "name")
    return render(
        request,
        "events/console.html",
        {"memberships": scope.memberships, "events": events, "booths": booths},
    )


@login_required
def event_detail(request: HttpRequest, organiser_slug: str, event_slug: str) -> HttpResponse:
    """One event: its gallery link, booths and latest sessions."""
    event = access.access_event(request.user, organiser_slug, event_slug, perm=Perm.VIEW)
    sessions = (
        event.sessions.select_related("booth")
        .annotate(capture_count=Count("captures"))
        .order_by("-started_at")[:50]
    )
    return render(
        request,
        "events/event_detail.html",
        {"event": event, "sessions": sessions, "booths": event.booths.all()},
    )
