"""Booth endpoints that text or email a guest their session's link (and the seed's send-mms)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from django.utils.cache import patch_vary_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import authentication, exceptions, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from boothsite.parsers import JSONObjectParser
from captures import imaging
from captures.access import access_session_for_booth
from captures.api import IDEMPOTENCY_KEY, SESSION_ID
from captures.serializers import EXAMPLE_DATA_URL, ImageField
from events.access import access_booth_by_token
from events.drf import (
    BODY_ERRORS,
    BOOTH_ERRORS,
    IDEMPOTENCY_ERRORS,
    BoothAPIView,
    BoothRateThrottle,
    IsBooth,
    error_responses,
)
from events.models import Booth
from messaging import emails, services
from messaging.phones import InvalidPhone


class ShareSmsSerializer(serializers.Serializer[Any]):
    phone = serializers.CharField(
        max_length=32,
        trim_whitespace=False,
        error_messages={
            "required": "Enter a mobile number.",
            "blank": "Enter a mobile number.",
        },
    )


class QueuedSerializer(serializers.Serializer[Any]):
    """A queued SMS or email (schema only): its id and status."""

    id = serializers.UUIDField()
    status = serializers.CharField()


SHARE_ERRORS = error_responses(*BODY_ERRORS, *BOOTH_ERRORS, *IDEMPOTENCY_ERRORS, 404, 409, 429, 503)
QUEUED_EXAMPLE = OpenApiExample(
    "queued",
    response_only=True,
    status_codes=["202"],
    value={"id": "3e2d1c0b-9a8f-4e7d-6c5b-4a3f2e1d0c9b", "status": "queued"},
)


class ShareSmsView(BoothAPIView):
    """``POST {"phone": "+447400123456"}`` → 202; the SMS is sent in the background.

    Honours ``Idempotency-Key``: the same share posted twice gets the first answer (the
    same SMS id) and sends one SMS (RELIABILITY 10).
    """

    idempotent = True

    @extend_schema(
        operation_id="booth_share_sms",
        summary="Text the guest the session's link",
        tags=["booth"],
        parameters=[SESSION_ID, IDEMPOTENCY_KEY],
        request=ShareSmsSerializer,
        responses={202: QueuedSerializer, **SHARE_ERRORS},
        examples=[
            OpenApiExample("a mobile number", request_only=True, value={"phone": "+447400123456"}),
            QUEUED_EXAMPLE,
        ],
    )
    def post(self, request: Request, session_id: str) -> Response:
        session = access_session_for_booth(self.booth, session_id)
        serializer = ShareSmsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            sms = services.queue_share_sms(self.booth, session, serializer.validated_data["phone"])
        except InvalidPhone as exc:
            return Response({"phone": [exc.message]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(
            {"id": str(sms.public_id), "status": sms.status}, status=status.HTTP_202_ACCEPTED
        )


class ShareEmailSerializer(serializers.Serializer[Any]):
    email = serializers.CharField(
        max_length=emails.MAX_LENGTH,
        trim_whitespace=False,
        error_messages={
            "required": "Enter an email address.",
            "blank": "Enter an email address.",
            "max_length": emails.INVALID_MESSAGE,
        },
    )


class ShareEmailView(BoothAPIView):
    """``POST {"email": "ann@example.com"}`` → 202; the email is sent in the background.

    400 ``{"email": [...]}`` for an address Django's EmailValidator refuses; 409 for an
    archived event or nothing to share; 429 (``Retry-After`` when known) over a cap;
    503 while the event's sending is paused. Honours ``Idempotency-Key`` like the SMS
    share: the same share posted twice gets the first answer and sends one email.
    """

    idempotent = True

    @extend_schema(
        operation_id="booth_share_email",
        summary="Email the guest the session's link",
        tags=["booth"],
        parameters=[SESSION_ID, IDEMPOTENCY_KEY],
        request=ShareEmailSerializer,
        responses={202: QueuedSerializer, **SHARE_ERRORS},
        examples=[
            OpenApiExample("an address", request_only=True, value={"email": "ann@example.com"}),
            QUEUED_EXAMPLE,
        ],
    )
    def post(self, request: Request, session_id: str) -> Response:
        session = access_session_for_booth(self.booth, session_id)
        serializer = ShareEmailSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            message = services.queue_share_email(
                self.booth, session, serializer.validated_data["email"]
            )
        except emails.InvalidEmail as exc:
            return Response({"email": [exc.message]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(
            {"id": str(message.public_id), "status": message.status},
            status=status.HTTP_202_ACCEPTED,
        )


#: The request headers a configured origin may send, and how long a browser may keep the
#: preflight's answer (seconds).
CORS_ALLOW_HEADERS = "Content-Type"
CORS_MAX_AGE = 600
UNSUPPORTED_MESSAGE = (
    "Send the phone and image as JSON (application/json) or as a form "
    "(application/x-www-form-urlencoded or multipart/form-data)."
)
NO_PHONE_MESSAGE = "Enter a mobile number with its country code, e.g. 447400123456."
NO_IMAGE_MESSAGE = "No image was sent."
SENT_MESSAGE = "Your photo is on its way by SMS."


class SeedTextField(serializers.CharField):
    """A CharField that takes only text: a JSON number or list is invalid, not converted."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class CompatSendMmsSerializer(serializers.Serializer[Any]):
    """The seed's ``{"phone", "image"}``, checked in that order of messages: image first.

    ``image`` is a data URL or a file part (``captures.serializers.ImageField``: a file
    over the cap raises ``InvalidImage``, a 413); ``phone`` is any non-blank text,
    checked as a number by ``messaging.phones`` when the SMS is queued.
    """

    image = ImageField(
        error_messages={"required": NO_IMAGE_MESSAGE, "null": NO_IMAGE_MESSAGE,
                        "invalid": NO_IMAGE_MESSAGE},
    )  # fmt: skip
    phone = SeedTextField(
        trim_whitespace=False,
        error_messages=dict.fromkeys(("required", "null", "blank", "invalid"), NO_PHONE_MESSAGE),
    )

    def validate_phone(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError(NO_PHONE_MESSAGE)
        return value


class SeedAnswerSerializer(serializers.Serializer[Any]):
    """The seed's answer (schema only): ``{"status": "success" | "error", "message"}``."""

    status = serializers.ChoiceField(choices=["success", "error"])
    message = serializers.CharField()


class PathTokenAuthentication(authentication.BaseAuthentication):
    """Authenticate by the booth token in the URL path (``booth_token``).

    Returns ``(AnonymousUser(), booth)``; an unknown, malformed or revoked token fails
    with 401 "Invalid booth token.". No cookie is read, so no CSRF token is needed.
    """

    def authenticate(self, request: Request) -> tuple[AnonymousUser, Booth]:
        kwargs = (request.parser_context or {}).get("kwargs", {})
        booth = access_booth_by_token(str(kwargs.get("booth_token", "")))
        if booth is None:
            raise exceptions.AuthenticationFailed("Invalid booth token.")
        return AnonymousUser(), booth

    def authenticate_header(self, request: Request) -> str:
        return "Booth"


class CompatSendMmsView(APIView):
    """The seed front end's ``POST <site>/send-mms`` ``{"phone", "image"}``, done safely.

    The booth token is in the path because the seed's browser code cannot send a header.
    The body is JSON, ``application/x-www-form-urlencoded`` or ``multipart/form-data``
    (``image`` a data URL, or a file part), at most ``DATA_UPLOAD_MAX_MEMORY_SIZE``
    bytes; ``phone`` may be digits with the country code and no plus
    (``447400123456``). The image becomes a capture in a new session; the guest gets
    that session's link by SMS through the same limits and ledger as the booth API.

    Answers the seed's ``{"status": "success" | "error", "message": ...}`` for every
    outcome, with real HTTP status codes: 202, 400, 401, 405, 409, 413, 415, 429 and
    503 (both with ``Retry-After``). Browsers on an origin listed in the booth's
    organiser's ``compat_origins`` get CORS headers (the preflight ``OPTIONS`` too);
    other origins get none, so the browser blocks them.
    """

    authentication_classes = [PathTokenAuthentication]
    permission_classes = [IsBooth]
    throttle_classes = [BoothRateThrottle]
    parser_classes = [JSONObjectParser, FormParser, MultiPartParser]
    compat_booth: Booth | None = None

    def perform_authentication(self, request: Request) -> None:
        super().perform_authentication(request)
        self.compat_booth = request.auth if isinstance(request.auth, Booth) else None

    def get_throttles(self) -> list[Any]:
        # A preflight is not a send: only the POST it precedes counts.
        return [] if self.request.method == "OPTIONS" else super().get_throttles()

    def options(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Response:
        """Answer a CORS preflight: 204; ``finalize_response`` adds the CORS headers."""
        return Response(status=status.HTTP_204_NO_CONTENT, headers={"Allow": "POST, OPTIONS"})

    @extend_schema(
        operation_id="compat_send_mms",
        summary="The seed front end's send-mms: store the photo, text the guest its link",
        tags=["compat"],
        auth=[],
        parameters=[
            OpenApiParameter(
                "booth_token",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="The booth's token (bth_…): the seed's browser code sends no "
                "header. An unknown or revoked one is a 401.",
            )
        ],
        request={
            "application/json": CompatSendMmsSerializer,
            "application/x-www-form-urlencoded": CompatSendMmsSerializer,
            "multipart/form-data": CompatSendMmsSerializer,
        },
        responses={
            code: OpenApiResponse(SeedAnswerSerializer, description=text)
            for code, text in [
                (202, "Stored; the SMS is on its way."),
                (400, "No image, no phone, or a photo or number refused."),
                (401, "Unknown or revoked booth token."),
                (409, "The booth has no event, or the event is archived."),
                (413, "Request body or photo too large."),
                (415, "Unsupported Content-Type."),
                (429, "Over a sending cap (Retry-After)."),
                (503, "SMS or storage down for a moment (Retry-After)."),
            ]
        },
        examples=[
            OpenApiExample(
                "the seed's body",
                request_only=True,
                media_type="application/json",
                value={"phone": "447400123456", "image": EXAMPLE_DATA_URL},
            ),
            OpenApiExample(
                "sent",
                response_only=True,
                status_codes=["202"],
                value={"status": "success", "message": SENT_MESSAGE},
            ),
        ],
    )
    def post(self, request: Request, booth_token: str) -> Response:
        booth = self.compat_booth
        assert booth is not None  # noqa: S101  (PathTokenAuthentication and IsBooth ran)
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if declared.isdigit() and int(declared) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            # Before parsing: Django caps a multipart body's fields, not its file parts.
            raise RequestDataTooBig(imaging.TOO_LARGE_MESSAGE)
        body = CompatSendMmsSerializer(data=request.data)
        body.is_valid(raise_exception=True)  # field errors: handle_exception's seed shape
        fields = body.validated_data
        services.run_booth_session(booth, [fields["image"]], phone=fields["phone"])
        return Response(
            {"status": "success", "message": SENT_MESSAGE}, status=status.HTTP_202_ACCEPTED
        )

    def handle_exception(self, exc: Exception) -> Response:
        """Answer every error in the seed's shape, keeping its status and headers.

        DRF's errors (401, 405, 415, 429 with ``Retry-After``, parse errors), Django's
        upload guards (413), domain errors (their own status, ``Retry-After``) and
        refused images all become ``{"status": "error", "message": …}``; anything else
        is a bug and is raised (a logged 500).
        """
        if isinstance(exc, imaging.InvalidImage):
            return seed_error(exc.message, exc.status)
        if isinstance(exc, exceptions.UnsupportedMediaType):
            return seed_error(UNSUPPORTED_MESSAGE, exc.status_code)
        if isinstance(exc, exceptions.MethodNotAllowed):
            method = self.request.method or "GET"
            return seed_error(
                f"Send the photo with POST, not {method}.",
                exc.status_code,
                headers={"Allow": "POST, OPTIONS"},
            )
        response = super().handle_exception(exc)
        response.data = {"status": "error", "message": error_message(response.data)}
        return response

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        patch_vary_headers(response, ["Origin"])
        origin = request.headers.get("Origin", "")
        booth = self.compat_booth
        if origin and booth is not None and origin in (booth.organiser.compat_origins or []):
            for name, value in cors_headers(origin, request).items():
                response[name] = value
        return response


def cors_headers(origin: str, request: Request) -> dict[str, str]:
    """Return the CORS headers granting ``origin`` (a configured one) this request.

    Every answer names the origin (never ``*``, never credentials) and exposes
    ``Retry-After``; a preflight also allows POST with ``Content-Type``, for
    ``CORS_MAX_AGE`` seconds, and a page on a public address may reach a booth laptop on
    a private one (Chrome's Private Network Access).
    """
    headers = {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Expose-Headers": "Retry-After",
    }
    if request.method == "OPTIONS":
        headers |= {
            "Access-Control-Allow-Methods": "POST",
            "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
            "Access-Control-Max-Age": str(CORS_MAX_AGE),
        }
        if request.headers.get("Access-Control-Request-Private-Network") == "true":
            headers["Access-Control-Allow-Private-Network"] = "true"
    return headers


def error_message(data: Any) -> str:
    """Return the first message of a DRF error body (``{"detail": …}`` or field errors)."""
    if isinstance(data, dict):
        if "detail" in data:
            return error_message(data["detail"])
        for value in data.values():
            return error_message(value)
        return "Bad request."
    if isinstance(data, list | tuple):
        return error_message(data[0]) if data else "Bad request."
    return str(data)


def seed_error(message: str, code: int, headers: dict[str, str] | None = None) -> Response:
    """Answer in the seed's shape, ``{"status": "error", "message": …}``, with a real status."""
    return Response({"status": "error", "message": message}, status=code, headers=headers)
