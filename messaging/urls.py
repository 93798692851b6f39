from __future__ import annotations

from django.urls import path

from messaging import views

app_name = "messaging"

urlpatterns = [
    path("hooks/sms/dlr/<str:callback_token>/", views.delivery_receipt, name="dlr"),
    path(
        "console/<slug:organiser_slug>/<slug:event_slug>/sms/",
        views.event_sms,
        name="event-sms",
    ),
    path(
        "console/<slug:organiser_slug>/privacy/erase-number/",
        views.erase_number,
        name="erase-number",
    ),
]
