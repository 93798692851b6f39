"""Console URL patterns (``captures`` namespace): an event's captures: list, hide, delete."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
