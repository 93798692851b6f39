"""Console URL patterns (``messaging`` namespace): SMS account, an event's SMS settings."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
