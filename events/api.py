"""Booth device endpoints that belong to the booth itself: pairing and "who am I"."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from events import services, tokens
from events.drf import (
    BODY_ERRORS,
    BOOTH_ERRORS,
    CACHE_ERRORS,
    THROTTLE_CACHE,
    BoothAPIView,
    error_responses,
)
from events.exceptions import ThrottleUnavailable
from events.models import Booth

PAIRING_UNAVAILABLE_MESSAGE = "Pairing is unavailable for a moment; try again in a minute."
#: Seconds a kiosk is asked to wait before pairing again while the cache is down.
PAIRING_RETRY_AFTER = 30


class PairingThrottle(AnonRateThrottle):
    """Rate-limit pairing attempts by client address (the endpoint is anonymous).

    While the cache is down this throttle fails closed: 503 with ``Retry-After``
    (``ThrottleUnavailable``), unlike the booth throttle, which fails open. Pairing is
    the one booth endpoint anyone on the internet can call, and each call is a database
    lookup; without its counter it would be unlimited. It is also rare and attended (an
    organiser setting up a kiosk retries a minute later), while uploads are the job of
    an event in progress. The outage is logged once (``events.drf.THROTTLE_CACHE``).
    """

    scope = "pairing"

    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            allowed = super().allow_request(request, view)
        except CACHE_ERRORS as exc:
            THROTTLE_CACHE.failed(self.scope, exc)
            raise ThrottleUnavailable(
                PAIRING_UNAVAILABLE_MESSAGE, retry_after=PAIRING_RETRY_AFTER
            ) from exc
        THROTTLE_CACHE.answered()
        return allowed


class PairingSerializer(serializers.Serializer[Any]):
    """``{"code": "…"}``: the one-time pairing code the console showed (at most 80 chars)."""

    code = serializers.CharField(max_length=80)


class CameraSerializer(serializers.Serializer[Any]):
    """A booth's camera settings (``Booth.camera_settings``); null: the kiosk's default."""

    width = serializers.IntegerField()
    height = serializers.IntegerField()
    mirror = serializers.BooleanField()
    brightness = serializers.FloatField(allow_null=True)
    contrast = serializers.FloatField(allow_null=True)
    zoom = serializers.FloatField(allow_null=True)


class BoothEventSerializer(serializers.Serializer[Any]):
    """The event a booth serves, as ``booth_payload`` describes it."""

    name = serializers.CharField()
    welcome_text = serializers.CharField(allow_blank=True)
    brand_color = serializers.CharField()
    logo_url = serializers.URLField(allow_null=True)
    auto_snap = serializers.BooleanField()
    countdown_seconds = serializers.IntegerField()
    captures_per_session = serializers.IntegerField()
    smile_threshold = serializers.FloatField()
    gallery_url = serializers.CharField(allow_null=True)


class BoothSerializer(serializers.Serializer[Any]):
    """The shape of ``booth_payload`` (schema only): the booth and its current event."""

    id = serializers.UUIDField()
    name = serializers.CharField()
    organiser = serializers.CharField()
    camera = CameraSerializer()
    event = BoothEventSerializer(allow_null=True)


class PairedSerializer(serializers.Serializer[Any]):
    """What pairing answers (schema only): the booth token, shown once, and the booth."""

    token = serializers.CharField(help_text="The booth's API token, bth_…; shown once.")
    booth = BoothSerializer()


class SocketTicketSerializer(serializers.Serializer[Any]):
    """A WebSocket ticket (schema only) and how long it lives, in seconds."""

    ticket = serializers.CharField()
    expires_in = serializers.IntegerField()


BOOTH_EXAMPLE = {
    "id": "7d9c3b2a-1e4f-4a6b-8c0d-9e8f7a6b5c4d",
    "name": "Entrance booth",
    "organiser": "Alpha Events",
    "camera": {
        "width": 1280,
        "height": 720,
        "mirror": True,
        "brightness": None,
        "contrast": None,
        "zoom": None,
    },
    "event": None,
}


def booth_payload(booth: Booth, request: Request) -> dict[str, Any]:
    """Describe a booth and the event it serves, as the kiosk page needs it.

    ``logo_url`` is absolute (signed and short-lived on S3; the kiosk loads it at once).
    """
    event = booth.current_event
    return {
        "id": str(booth.public_id),
        "name": booth.name,
        "organiser": booth.organiser.name,
        "camera": booth.camera_settings(),
        "event": None
        if event is None
        else {
            "name": event.name,
            "welcome_text": event.welcome_text,
            "brand_color": event.brand_color,
            "logo_url": request.build_absolute_uri(event.logo.url) if event.logo else None,
            "auto_snap": event.auto_snap,
            "countdown_seconds": event.countdown_seconds,
            "captures_per_session": event.captures_per_session,
            "smile_threshold": event.smile_threshold,
            "gallery_url": event.gallery_url() if event.gallery_enabled else None,
        },
    }


class PairView(APIView):
    """Redeem a one-time pairing code for the booth's API token (shown once)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [PairingThrottle]
    #: A pairing body is ``{"code": "…"}``, under 100 bytes; more is a 413 unparsed.
    max_json_bytes = 4096

    @extend_schema(
        operation_id="booth_pair",
        summary="Pair a booth: redeem a one-time code for its token",
        tags=["booth"],
        auth=[],
        request=PairingSerializer,
        responses={200: PairedSerializer, **error_responses(*BODY_ERRORS, 429, 503)},
        examples=[
            OpenApiExample("a pairing code", request_only=True, value={"code": "K7QX-42PM"}),
            OpenApiExample(
                "paired",
                response_only=True,
                value={"token": "bth_2Jx…", "booth": BOOTH_EXAMPLE},
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = PairingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = services.pair_booth(serializer.validated_data["code"])
        return Response({"token": issued.secret, "booth": booth_payload(issued.booth, request)})


class BoothMeView(BoothAPIView):
    """The authenticated booth and its current event."""

    @extend_schema(
        operation_id="booth_me",
        summary="The authenticated booth and its current event",
        tags=["booth"],
        responses={200: BoothSerializer, **error_responses(*BOOTH_ERRORS)},
        examples=[OpenApiExample("a booth", response_only=True, value=BOOTH_EXAMPLE)],
    )
    def get(self, request: Request) -> Response:
        return Response(booth_payload(self.booth, request), status=status.HTTP_200_OK)


class SocketTicketView(BoothAPIView):
    """Issue a short-lived signed ticket for the booth's WebSocket (``/ws/booth/``).

    The kiosk sends it in the ``Sec-WebSocket-Protocol`` header as ``ticket.<ticket>``,
    so no long-lived token travels in a URL (and into access logs).
    """

    @extend_schema(
        operation_id="booth_socket_ticket",
        summary="A short-lived ticket for the booth's WebSocket",
        tags=["booth"],
        request=None,
        responses={200: SocketTicketSerializer, **error_responses(*BODY_ERRORS, *BOOTH_ERRORS)},
        examples=[
            OpenApiExample(
                "a ticket", response_only=True, value={"ticket": "eyJi…", "expires_in": 60}
            )
        ],
    )
    def post(self, request: Request) -> Response:
        ticket = tokens.socket_ticket(self.booth.public_id, self.booth.token_hash)
        return Response({"ticket": ticket, "expires_in": tokens.TICKET_MAX_AGE})
