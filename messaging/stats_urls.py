"""Console URL patterns (``messaging`` namespace): an event's stats."""

from __future__ import annotations

from django.urls import path

import events.converters  # noqa: F401  (registers the <event:…> converter)
from messaging import stats_views

urlpatterns = [
    path(
        "console/<slug:organiser_slug>/<event:event_slug>/stats/",
        stats_views.event_stats,
        name="event-stats",
    ),
]
