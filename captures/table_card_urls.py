"""Console URL pattern (``captures`` namespace): an event's printable QR table card."""

from __future__ import annotations

from django.urls import URLPattern, path

import events.converters  # noqa: F401  (registers the <event:…> converter)
from captures import table_card_views

urlpatterns: list[URLPattern] = [
    path(
        "console/<slug:organiser_slug>/<event:event_slug>/table-card/",
        table_card_views.event_table_card,
        name="event-table-card",
    ),
]
