"""Booth endpoints that text a guest the link to their session (and the seed's send-mms)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from boothsite.parsers import JSONObjectParser
from captures import imaging
from captures.access import access_session_for_booth
from events.access import access_booth_by_token
from events.drf import BoothAPIView
from events.exceptions import DomainError
from messaging import phones, services
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


class ShareSmsView(BoothAPIView):
    """``POST {"phone": "+447400123456"}`` → 202; the SMS is sent in the background.

    Honours ``Idempotency-Key``: the same share posted twice gets the first answer (the
    same SMS id) and sends one SMS (RELIABILITY 10).
    """

    idempotent = True

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


class CompatSendMmsView(APIView):
    """The seed front end's ``POST <site>/send-mms`` ``{"phone", "image"}``, done safely.

    The booth token is in the path because the seed's browser code cannot send a header.
    The image becomes a capture in a new session; the guest gets that session's link by
    SMS through the same limits and ledger as the booth API. Answers the seed's
    ``{"status": "success" | "error", "message": ...}`` with real HTTP status codes.
    """

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    parser_classes = [JSONObjectParser]

    def post(self, request: Request, booth_token: str) -> Response:
        booth = access_booth_by_token(booth_token)
        if booth is None:
            return seed_error("Invalid booth token.", status.HTTP_401_UNAUTHORIZED)
        try:
            data = request.data
        except APIException as exc:  # ParseError, UnsupportedMediaType, BodyTooLarge
            return seed_error(str(exc.detail), exc.status_code)
        except RequestDataTooBig:
            return seed_error(imaging.TOO_LARGE_MESSAGE, status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        phone, image = data.get("phone"), data.get("image")
        if not isinstance(image, str) or not image:
            return seed_error("No image was sent.", status.HTTP_400_BAD_REQUEST)
        try:
            if not isinstance(phone, str) or not phone:
                raise InvalidPhone(phones.INVALID_MESSAGE)
            services.run_booth_session(booth, [image], phone=phone)
        except imaging.InvalidImage as exc:
            return seed_error(exc.message, exc.status)
        except DomainError as exc:
            return seed_error(exc.message, exc.status_code, headers=exc.headers())
        return Response(
            {"status": "success", "message": "Your photo is on its way by SMS."},
            status=status.HTTP_202_ACCEPTED,
        )


def seed_error(message: str, code: int, headers: dict[str, str] | None = None) -> Response:
    """Answer in the seed's shape, ``{"status": "error", "message": …}``, with a real status."""
    return Response({"status": "error", "message": message}, status=code, headers=headers)
