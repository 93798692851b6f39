"""Booth API: sessions and captures, authenticated by ``Authorization: Booth bth_…``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpResponse
from rest_framework import status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from captures import access, imaging, qr, services
from captures.models import Capture
from captures.serializers import CaptureSerializer, SessionSerializer
from events.models import Booth
from events.permissions import BoothTokenAuthentication, IsBooth


class BoothRateThrottle(SimpleRateThrottle):
    """Rate-limit by booth (not by client IP, which a proxy or NAT shares)."""

    scope = "booth"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not isinstance(request.auth, Booth):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class BoothAPIView(APIView):
    """Base of every booth endpoint: booth token auth, booth permission, booth throttle."""

    authentication_classes = [BoothTokenAuthentication]
    permission_classes = [IsBooth]
    throttle_classes = [BoothRateThrottle]

    @property
    def booth(self) -> Booth:
        assert isinstance(self.request.auth, Booth)  # noqa: S101  (IsBooth ran)
        return self.request.auth


class SessionListView(BoothAPIView):
    def post(self, request: Request) -> Response:
        session = services.start_session(self.booth)
        data = SessionSerializer(
            access.session_with_media(session), context={"request": request}
        ).data
        return Response(data, status=status.HTTP_201_CREATED)


class SessionDetailView(BoothAPIView):
    def get(self, request: Request, session_id: str) -> Response:
        session = access.access_session_for_booth(self.booth, session_id)
        data = SessionSerializer(
            access.session_with_media(session), context={"request": request}
        ).data
        return Response(data)


class CaptureListView(BoothAPIView):
    """Upload one photo: multipart ``image`` or JSON ``{"image": "data:image/jpeg;base64,…"}``.

    Optional fields: ``trigger`` (manual, countdown, smile) and ``smile_score`` (0 to 1).
    """

    parser_classes = [JSONParser, MultiPartParser]

    def post(self, request: Request, session_id: str) -> Response:
        session = access.access_session_for_booth(self.booth, session_id)
        upload = request.data.get("image")
        if isinstance(upload, UploadedFile):
            if upload.size is not None and upload.size > settings.BOOTHSITE_MAX_UPLOAD_BYTES:
                return too_large()
            payload: bytes | str = upload.read()
        elif isinstance(upload, str) and upload:
            payload = upload
        else:
            return Response({"image": ["No image was sent."]}, status=status.HTTP_400_BAD_REQUEST)
        errors, trigger, smile_score = parse_capture_fields(request.data)
        if errors:
            return Response(errors, status=status.HTTP_400_BAD_REQUEST)
        try:
            capture = services.record_capture(
                session, payload, trigger=trigger, smile_score=smile_score
            )
        except imaging.InvalidImage as exc:
            if exc.status == status.HTTP_413_REQUEST_ENTITY_TOO_LARGE:
                return too_large()
            return Response({"image": [exc.message]}, status=exc.status)
        capture = access.capture_with_variants(capture)
        data = CaptureSerializer(capture, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)


def too_large() -> Response:
    return Response(
        {"detail": "Photo too large (max 10 MB)."},
        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )


def parse_capture_fields(data: Any) -> tuple[dict[str, list[str]], str, float | None]:
    """Validate the optional ``trigger`` and ``smile_score`` fields of an upload."""
    errors: dict[str, list[str]] = {}
    trigger = str(data.get("trigger") or Capture.Trigger.MANUAL)
    if trigger not in Capture.Trigger.values:
        errors["trigger"] = [f"Choose one of: {', '.join(Capture.Trigger.values)}."]
    raw_score = data.get("smile_score")
    smile_score: float | None = None
    if raw_score not in (None, ""):
        try:
            smile_score = float(raw_score)
        except (TypeError, ValueError):
            smile_score = -1.0
        if not 0.0 <= smile_score <= 1.0:
            errors["smile_score"] = ["Enter a number from 0 to 1."]
    return errors, trigger, smile_score


class SessionQrView(BoothAPIView):
    """The session's guest link as a QR code (``image/svg+xml``) for the share screen."""

    def get(self, request: Request, session_id: str) -> HttpResponse:
        session = access.access_session_for_booth(self.booth, session_id)
        response = HttpResponse(qr.qr_svg(session.share_url()), content_type="image/svg+xml")
        response["Cache-Control"] = "private, no-store"
        return response


class FinishView(BoothAPIView):
    def post(self, request: Request, session_id: str) -> Response:
        session = access.access_session_for_booth(self.booth, session_id)
        services.finish_session(session)
        data = SessionSerializer(
            access.session_with_media(session), context={"request": request}
        ).data
        return Response(data, status=status.HTTP_202_ACCEPTED)
