"""Console URL patterns (``captures`` namespace): the live booth monitor."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
