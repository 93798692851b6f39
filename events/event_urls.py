"""Console URL patterns (``events`` namespace): events: create, edit, archive, delete."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
