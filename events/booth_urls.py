"""Console URL patterns (``events`` namespace): booths: add, pair, rotate, revoke, assign.

``events:booths`` lists them and ``events:booth-create`` adds one; ``events:booth-detail``
shows one, and each action is a POST to a page of its own beside it (``…/pair/``,
``…/assign/``, ``…/rotate/`` and ``…/revoke/``, the last two asking first on GET).
``captures:booth-camera`` (``…/camera/``) lives in captures.
"""

from __future__ import annotations

from django.urls import URLPattern, path

from events import booth_views

BOOTH = "console/<slug:organiser_slug>/booths/<str:booth_id>/"

urlpatterns: list[URLPattern] = [
    path("console/<slug:organiser_slug>/booths/", booth_views.booth_list, name="booths"),
    path(
        "console/<slug:organiser_slug>/booths/new/",
        booth_views.booth_create,
        name="booth-create",
    ),
    path(BOOTH, booth_views.booth_detail, name="booth-detail"),
    path(BOOTH + "pair/", booth_views.booth_pair, name="booth-pair"),
    path(BOOTH + "assign/", booth_views.booth_assign, name="booth-assign"),
    path(BOOTH + "rotate/", booth_views.booth_rotate, name="booth-rotate"),
    path(BOOTH + "revoke/", booth_views.booth_revoke, name="booth-revoke"),
]
