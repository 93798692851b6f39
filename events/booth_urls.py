"""Console URL patterns (``events`` namespace): booths: add, pair, rotate, revoke, assign."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
