"""Console URL patterns (``captures`` namespace): an event's captures: list, hide, delete."""

from __future__ import annotations

from django.urls import path

import events.converters  # noqa: F401  (registers the <event:…> converter)
from captures import moderation_views

_CAPTURE = "console/<slug:organiser_slug>/<event:event_slug>/captures/<str:capture_id>/"

urlpatterns = [
    path(
        "console/<slug:organiser_slug>/<event:event_slug>/captures/",
        moderation_views.event_captures,
        name="event-captures",
    ),
    path(_CAPTURE + "thumbnail/", moderation_views.capture_thumbnail, name="capture-thumbnail"),
    path(_CAPTURE + "hide/", moderation_views.capture_hide, name="capture-hide"),
    path(_CAPTURE + "unhide/", moderation_views.capture_unhide, name="capture-unhide"),
    path(_CAPTURE + "delete/", moderation_views.capture_delete, name="capture-delete"),
]
