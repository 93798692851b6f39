"""Console URL patterns (``captures`` namespace): the live booth monitor.

The pages' socket is ``/ws/console/<organiser>/`` or ``/ws/console/<organiser>/<event>/``
(``captures.routing``).
"""

from __future__ import annotations

from django.urls import URLPattern, path

import events.converters  # noqa: F401  (registers the <event:…> converter)
from captures import monitor_views

urlpatterns: list[URLPattern] = [
    path(
        "console/<slug:organiser_slug>/monitor/",
        monitor_views.organiser_monitor,
        name="monitor",
    ),
    path(
        "console/<slug:organiser_slug>/<event:event_slug>/monitor/",
        monitor_views.event_monitor,
        name="event-monitor",
    ),
]
