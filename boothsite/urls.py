"""Top-level URLs: console, booth API, public pages, admin."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from boothsite import api_urls
from boothsite import views as site_views
from captures import api as capture_api
from captures import public_views
from events import api as event_api
from messaging import api as messaging_api

booth_api = [
    path("pair/", event_api.PairView.as_view(), name="booth-pair"),
    path("me/", event_api.BoothMeView.as_view(), name="booth-me"),
    path("socket-ticket/", event_api.SocketTicketView.as_view(), name="booth-socket-ticket"),
    path("sessions/", capture_api.StartSessionView.as_view(), name="booth-sessions"),
    path(
        "sessions/<str:session_id>/",
        capture_api.SessionDetailView.as_view(),
        name="booth-session",
    ),
    path(
        "sessions/<str:session_id>/captures/",
        capture_api.UploadCaptureView.as_view(),
        name="booth-captures",
    ),
    path(
        "sessions/<str:session_id>/qr.svg",
        capture_api.SessionQrView.as_view(),
        name="booth-session-qr",
    ),
    path(
        "sessions/<str:session_id>/finish/",
        capture_api.FinishView.as_view(),
        name="booth-finish",
    ),
    path(
        "sessions/<str:session_id>/share/sms/",
        messaging_api.ShareSmsView.as_view(),
        name="booth-share-sms",
    ),
    path(
        "sessions/<str:session_id>/share/email/",
        messaging_api.ShareEmailView.as_view(),
        name="booth-share-email",
    ),
]

urlpatterns = [
    path("", include("events.urls")),
    path("", include("captures.urls")),
    path("", include("messaging.urls")),
    # allauth (sign-up, email verification and change, password reset). Its sign-in page
    # is the console's (events:login, behind django-axes): /accounts/login/ leads there.
    path(
        "accounts/login/",
        RedirectView.as_view(pattern_name="events:login", query_string=True),
        name="account_login",
    ),
    path("accounts/", include("allauth.urls")),
    path("api/v1/booth/", include((booth_api, "api"))),
    path("api/v1/", include("boothsite.api_urls")),
    path("api/", include(api_urls.schema_urlpatterns)),
    path(
        "compat/<str:booth_token>/send-mms",
        messaging_api.CompatSendMmsView.as_view(),
        name="compat-send-mms",
    ),
    path("admin/", admin.site.urls),
    path("robots.txt", public_views.robots_txt, name="robots"),
    path("favicon.ico", site_views.favicon, name="favicon"),
]
