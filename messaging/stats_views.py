"""The console's stats page of an event (login required; members of its organiser)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from events import access
from events.roles import Perm
from messaging import stats


@login_required
@require_GET
def event_stats(request: HttpRequest, organiser_slug: str, event_slug: str) -> HttpResponse:
    """Show the event's sessions, captures, smile share and SMS, in total and by the hour.

    The hours are drawn as a server-rendered SVG chart with a data table beside it
    (``messaging.stats``). Any member may look (``Perm.VIEW``); another organiser's
    event answers 404. A fixed number of queries: three for the figures.
    """
    event = access.access_event(request.user, organiser_slug, event_slug, perm=Perm.VIEW)
    figures = stats.event_stats(event)
    context = {
        "organiser": event.organiser,
        "event": event,
        "stats": figures,
        "chart": stats.hour_chart(figures.hours),
        "active_hours": [hour for hour in figures.hours if hour.active],
    }
    return render(request, "messaging/event_stats.html", context)
