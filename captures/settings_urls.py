"""Console URL patterns (``captures`` namespace): an event's capture and gallery settings."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
