"""Console URL patterns (``captures`` namespace): an event's capture and gallery settings."""

from __future__ import annotations

from django.urls import URLPattern, path

import events.converters  # noqa: F401  (registers the <event:…> converter)
from captures import settings_views

urlpatterns: list[URLPattern] = [
    path(
        "console/<slug:organiser_slug>/<event:event_slug>/capture/",
        settings_views.event_capture_settings,
        name="event-capture-settings",
    ),
    path(
        "console/<slug:organiser_slug>/<event:event_slug>/gallery/",
        settings_views.event_gallery_settings,
        name="event-gallery-settings",
    ),
]
