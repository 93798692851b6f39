"""Console URL patterns (``messaging`` namespace): SMS account, an event's SMS settings."""

from __future__ import annotations

from django.urls import URLPattern, path

import events.converters  # noqa: F401  (registers the <event:…> converter)
from messaging import account_views

urlpatterns: list[URLPattern] = [
    path(
        "console/<slug:organiser_slug>/sms-account/",
        account_views.sms_account,
        name="sms-account",
    ),
    path(
        "console/<slug:organiser_slug>/<event:event_slug>/sms/settings/",
        account_views.event_sms_settings,
        name="event-sms-settings",
    ),
]
