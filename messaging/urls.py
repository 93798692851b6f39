from __future__ import annotations

from django.urls import include, path

import events.converters  # noqa: F401  (registers the <event:…> converter)
from messaging import views

app_name = "messaging"

urlpatterns = [
    path("", include("messaging.account_urls")),
    path("", include("messaging.stats_urls")),
    path("hooks/sms/dlr/<str:callback_token>/", views.delivery_receipt, name="dlr"),
    path(
        "console/<slug:organiser_slug>/<event:event_slug>/sms/",
        views.event_sms,
        name="event-sms",
    ),
    path(
        "console/<slug:organiser_slug>/<event:event_slug>/email/",
        views.event_email,
        name="event-email",
    ),
    path(
        "console/<slug:organiser_slug>/privacy/erase-number/",
        views.erase_number,
        name="erase-number",
    ),
]
