"""Booth device endpoints that belong to the booth itself: pairing and "who am I"."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from events import services, tokens
from events.drf import BoothAPIView
from events.models import Booth


class PairingThrottle(AnonRateThrottle):
    """Rate-limit pairing attempts by client address (the endpoint is anonymous)."""

    scope = "pairing"


class PairingSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(max_length=80)


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

    def post(self, request: Request) -> Response:
        serializer = PairingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = services.pair_booth(serializer.validated_data["code"])
        return Response({"token": issued.secret, "booth": booth_payload(issued.booth, request)})


class BoothMeView(BoothAPIView):
    """The authenticated booth and its current event."""

    def get(self, request: Request) -> Response:
        return Response(booth_payload(self.booth, request), status=status.HTTP_200_OK)


class SocketTicketView(BoothAPIView):
    """Issue a short-lived signed ticket for the booth's WebSocket (``/ws/booth/``).

    The kiosk sends it in the ``Sec-WebSocket-Protocol`` header as ``ticket.<ticket>``,
    so no long-lived token travels in a URL (and into access logs).
    """

    def post(self, request: Request) -> Response:
        ticket = tokens.socket_ticket(self.booth.public_id)
        return Response({"ticket": ticket, "expires_in": tokens.TICKET_MAX_AGE})
