"""Booth API: sessions and captures, authenticated by ``Authorization: Booth bth_…``."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpResponse
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from boothsite.parsers import JSONObjectParser
from captures import access, imaging, qr, services
from captures.models import Capture
from captures.serializers import CaptureSerializer, SessionSerializer
from events.drf import BoothAPIView


class StartSessionView(BoothAPIView):
    """``POST sessions/`` opens a session at the booth's current event → 201."""

    def post(self, request: Request) -> Response:
        session = services.start_session(self.booth)
        data = SessionSerializer(
            access.session_with_media(session), context={"request": request}
        ).data
        return Response(data, status=status.HTTP_201_CREATED)


class SessionDetailView(BoothAPIView):
    """``GET sessions/<id>/``: the session with its captures, variants, strips and links."""

    def get(self, request: Request, session_id: str) -> Response:
        session = access.access_session_for_booth(self.booth, session_id)
        data = SessionSerializer(
            access.session_with_media(session), context={"request": request}
        ).data
        return Response(data)


class UploadCaptureView(BoothAPIView):
    """Upload one photo: multipart ``image`` or JSON ``{"image": "data:image/jpeg;base64,…"}``.

    Optional fields: ``trigger`` (manual, countdown, smile) and ``smile_score`` (0 to 1).
    Honours ``Idempotency-Key``: a re-sent upload gets the first answer, and one capture.
    Storage down is a 503 with ``Retry-After`` and nothing stored (RELIABILITY 57).
    """

    parser_classes = [JSONObjectParser, MultiPartParser]
    idempotent = True

    def post(self, request: Request, session_id: str) -> Response:
        session = access.access_session_for_booth(self.booth, session_id)
        upload = request.data.get("image")
        if isinstance(upload, UploadedFile):
            if upload.size is not None and upload.size > imaging.MAX_UPLOAD_BYTES:
                return invalid_image(imaging.InvalidImage("too_large"))
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
            return invalid_image(exc)
        capture = access.capture_with_variants(capture)
        data = CaptureSerializer(capture, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)


def invalid_image(exc: imaging.InvalidImage) -> Response:
    """Answer a refused upload: ``413 {"detail": …}`` when too large, else a field error."""
    if exc.status == status.HTTP_413_REQUEST_ENTITY_TOO_LARGE:
        return Response({"detail": exc.message}, status=exc.status)
    return Response({"image": [exc.message]}, status=exc.status)


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
    """``POST sessions/<id>/finish/`` closes the session and queues its strips → 202.

    Honours ``Idempotency-Key`` (a re-sent finish gets the first answer).
    """

    idempotent = True

    def post(self, request: Request, session_id: str) -> Response:
        session = access.access_session_for_booth(self.booth, session_id)
        services.finish_session(session)
        data = SessionSerializer(
            access.session_with_media(session), context={"request": request}
        ).data
        return Response(data, status=status.HTTP_202_ACCEPTED)
