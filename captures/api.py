"""Booth API: sessions and captures, authenticated by ``Authorization: Booth bth_…``."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from boothsite.parsers import JSONObjectParser
from captures import access, imaging, qr, services
from captures.serializers import (
    EXAMPLE_DATA_URL,
    CaptureJSONRequestSerializer,
    CaptureMultipartRequestSerializer,
    CaptureSerializer,
    CaptureUploadSerializer,
    SessionSerializer,
)
from events.drf import (
    BODY_ERRORS,
    BOOTH_ERRORS,
    IDEMPOTENCY_ERRORS,
    BoothAPIView,
    error_responses,
)

TAGS = ["booth"]

SESSION_ID = OpenApiParameter(
    "session_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The session's id."
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string: a re-sent request with the same key gets the first "
    "answer, and the action happens once.",
)
SESSION_EXAMPLE = OpenApiExample(
    "an open session",
    response_only=True,
    value={
        "id": "0b8e2f4c-9a51-4c1e-8f3d-2a6b7c9d0e1f",
        "status": "open",
        "ready": False,
        "event": {
            "name": "Ann & Bo",
            "countdown_seconds": 3,
            "captures_per_session": 4,
            "smile_threshold": 0.8,
        },
        "started_at": "2026-06-01T18:30:00Z",
        "finished_at": None,
        "share_url": "https://boothsite.example/s/Xy3…/",
        "download_url": "https://boothsite.example/s/Xy3…/photos.zip",
        "captures": [],
        "strips": [],
    },
)


class StartSessionView(BoothAPIView):
    """``POST sessions/`` opens a session at the booth's current event → 201."""

    @extend_schema(
        operation_id="booth_session_start",
        summary="Start a session at the booth's current event",
        tags=TAGS,
        request=None,
        responses={
            201: SessionSerializer,
            **error_responses(*BODY_ERRORS, *BOOTH_ERRORS, 409, 503),
        },
        examples=[SESSION_EXAMPLE],
    )
    def post(self, request: Request) -> Response:
        session = services.start_session(self.booth)
        data = SessionSerializer(
            access.session_with_media(session), context={"request": request}
        ).data
        return Response(data, status=status.HTTP_201_CREATED)


class SessionDetailView(BoothAPIView):
    """``GET sessions/<id>/``: the session with its captures, variants, strips and links."""

    @extend_schema(
        operation_id="booth_session_detail",
        summary="A session, its captures, strips and links",
        tags=TAGS,
        parameters=[SESSION_ID],
        responses={200: SessionSerializer, **error_responses(*BOOTH_ERRORS, 404)},
        examples=[SESSION_EXAMPLE],
    )
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

    @extend_schema(
        operation_id="booth_capture_upload",
        summary="Upload one photo to a session",
        tags=TAGS,
        parameters=[SESSION_ID, IDEMPOTENCY_KEY],
        request={
            "application/json": CaptureJSONRequestSerializer,
            "multipart/form-data": CaptureMultipartRequestSerializer,
        },
        responses={
            201: CaptureSerializer,
            **error_responses(*BODY_ERRORS, *BOOTH_ERRORS, *IDEMPOTENCY_ERRORS, 404, 409, 503),
        },
        examples=[
            OpenApiExample(
                "a data URL",
                request_only=True,
                media_type="application/json",
                value={"image": EXAMPLE_DATA_URL, "trigger": "countdown", "smile_score": 0.82},
            ),
            OpenApiExample(
                "a stored capture",
                response_only=True,
                status_codes=["201"],
                value={
                    "id": "5c1d7a0e-3f2b-4d8e-9a6c-1b2e3f4a5d6c",
                    "status": "pending",
                    "taken_at": "2026-06-01T18:30:04Z",
                    "trigger": "countdown",
                    "smile_score": None,
                    "width": 1280,
                    "height": 720,
                    "url": "https://boothsite.example/media/captures/…jpg",
                    "thumbnail_url": "https://boothsite.example/media/thumbs/…jpg",
                    "variants": [],
                },
            ),
        ],
    )
    def post(self, request: Request, session_id: str) -> Response:
        session = access.access_session_for_booth(self.booth, session_id)
        upload = CaptureUploadSerializer(data=request.data)
        try:
            upload.is_valid(raise_exception=True)
            fields = upload.validated_data
            capture = services.record_capture(
                session,
                fields["image"],
                trigger=fields["trigger"],
                smile_score=fields["smile_score"],
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


class SessionQrView(BoothAPIView):
    """The session's guest link as a QR code (``image/svg+xml``) for the share screen."""

    @extend_schema(
        operation_id="booth_session_qr",
        summary="The session's guest link as an SVG QR code",
        tags=TAGS,
        parameters=[SESSION_ID],
        responses={
            (200, "image/svg+xml"): OpenApiResponse(
                OpenApiTypes.STR, description="An SVG image (not cached)."
            ),
            **error_responses(*BOOTH_ERRORS, 404),
        },
    )
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

    @extend_schema(
        operation_id="booth_session_finish",
        summary="Finish a session and queue its strips",
        tags=TAGS,
        parameters=[SESSION_ID, IDEMPOTENCY_KEY],
        request=None,
        responses={
            202: SessionSerializer,
            **error_responses(*BODY_ERRORS, *BOOTH_ERRORS, *IDEMPOTENCY_ERRORS, 404, 409, 503),
        },
        examples=[SESSION_EXAMPLE],
    )
    def post(self, request: Request, session_id: str) -> Response:
        session = access.access_session_for_booth(self.booth, session_id)
        services.finish_session(session)
        data = SessionSerializer(
            access.session_with_media(session), context={"request": request}
        ).data
        return Response(data, status=status.HTTP_202_ACCEPTED)
