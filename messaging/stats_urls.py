"""Console URL patterns (``messaging`` namespace): an event's stats."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
