"""The organiser API's routes (``/api/v1/``) and the OpenAPI schema and docs pages.

``urlpatterns`` is included by ``boothsite.urls`` at ``api/v1/`` under the namespace
``orgapi`` (URL names such as ``orgapi:event-list``, ``orgapi:booth-pair``);
``schema_urlpatterns`` at ``api/`` (``api/schema/``, ``api/docs/``). The docs page is
Swagger UI from drf-spectacular-sidecar (no CDN), its start-up script served as a file
(``SpectacularSwaggerSplitView``), so the site's CSP (``script-src 'self'``) allows it.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from captures.organiser_api import CaptureViewSet, SessionViewSet, StripViewSet
from events.organiser_api import BoothViewSet, EventViewSet, WebhookViewSet
from messaging.organiser_api import SmsViewSet

router = SimpleRouter(use_regex_path=False)
router.register("events", EventViewSet, basename="event")
router.register("booths", BoothViewSet, basename="booth")
router.register("sessions", SessionViewSet, basename="session")
router.register("captures", CaptureViewSet, basename="capture")
router.register("strips", StripViewSet, basename="strip")
router.register("sms", SmsViewSet, basename="sms")
router.register("webhooks", WebhookViewSet, basename="webhook")

app_name = "orgapi"
urlpatterns = router.urls

schema_urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
