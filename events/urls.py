from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path

import events.converters  # noqa: F401  (registers the <event:…> converter)
from events import views

app_name = "events"

urlpatterns = [
    path("", include("events.event_urls")),
    path("", include("events.booth_urls")),
    path(
        "console/login/",
        auth_views.LoginView.as_view(template_name="events/login.html"),
        name="login",
    ),
    path("console/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("console/", views.console, name="console"),
    path(
        "console/<slug:organiser_slug>/<event:event_slug>/",
        views.event_detail,
        name="event-detail",
    ),
    path("", views.home, name="home"),
]
