from __future__ import annotations

from django.urls import include, path

import events.converters  # noqa: F401  (registers the <event:…> converter)
from captures import download_views, public_views, slideshow_views, views

app_name = "captures"

urlpatterns = [
    path("", include("captures.settings_urls")),
    path("", include("captures.moderation_urls")),
    path("", include("captures.monitor_urls")),
    path("", include("captures.table_card_urls")),
    path("s/<str:share_token>/", public_views.session_page, name="share"),
    path("s/<str:share_token>/photos.zip", public_views.session_zip, name="share-zip"),
    path("g/<str:gallery_token>/", public_views.gallery_page, name="gallery"),
    path("g/<str:gallery_token>/live/", slideshow_views.slideshow_page, name="slideshow"),
    path("g/<str:gallery_token>/live/feed.json", slideshow_views.feed, name="slideshow-feed"),
    path("g/<str:gallery_token>/photos.zip", public_views.gallery_zip, name="gallery-zip"),
    path(
        "console/<slug:organiser_slug>/<event:event_slug>/download.zip",
        download_views.event_download,
        name="event-download",
    ),
    path("booth/", public_views.booth_page, name="booth"),
    path("media/<path:name>", public_views.media, name="media"),
    path(
        "console/<slug:organiser_slug>/<event:event_slug>/branding/",
        views.event_branding,
        name="event-branding",
    ),
    path(
        "console/<slug:organiser_slug>/booths/<str:booth_id>/camera/",
        views.booth_camera,
        name="booth-camera",
    ),
]
