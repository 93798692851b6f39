"""Organiser console pages (login required), and the page of a locked-out sign-in."""

from __future__ import annotations

import math
from typing import Any

from axes.helpers import get_cool_off  # type: ignore[import-untyped]
from django.conf import settings
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


def login_locked_out(
    request: HttpRequest, original_response: object = None, credentials: object = None
) -> HttpResponse:
    """Answer a sign-in refused by django-axes: 429, ``Retry-After`` and when to retry.

    ``settings.AXES_LOCKOUT_CALLABLE`` for both the console's and the admin's sign-in
    page. The wait is ``AXES_COOLOFF_TIME`` in seconds (each failed try while locked out
    starts it again). ``original_response`` and ``credentials`` come from axes and are
    not used: the page never repeats the username.
    """
    cool_off = get_cool_off(request)
    seconds = max(1, int(cool_off.total_seconds())) if cool_off else 3600
    context: dict[str, Any] = {"minutes": math.ceil(seconds / 60)}
    response = render(
        request, "events/locked_out.html", context, status=settings.AXES_HTTP_RESPONSE_CODE
    )
    response["Retry-After"] = str(seconds)
    response["Cache-Control"] = "no-store"
    return response
