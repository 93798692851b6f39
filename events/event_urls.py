"""Console URL patterns (``events`` namespace): events: create, edit, archive, delete."""

from __future__ import annotations

from django.urls import URLPattern, path

import events.converters  # noqa: F401  (registers the <event:…> converter)
from events import event_views

urlpatterns: list[URLPattern] = [
    path(
        "console/<slug:organiser_slug>/events/new/",
        event_views.event_create,
        name="event-create",
    ),
    path(
        "console/<slug:organiser_slug>/<event:event_slug>/edit/",
        event_views.event_edit,
        name="event-edit",
    ),
    path(
        "console/<slug:organiser_slug>/<event:event_slug>/archive/",
        event_views.event_archive,
        name="event-archive",
    ),
    path(
        "console/<slug:organiser_slug>/<event:event_slug>/delete/",
        event_views.event_delete,
        name="event-delete",
    ),
]
