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
from events.drf import CACHE_ERRORS, THROTTLE_CACHE, BoothAPIView
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
    #: A pairing body is ``{"code": "…"}``, under 100 bytes; more is a 413 unparsed.
    max_json_bytes = 4096

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
        ticket = tokens.socket_ticket(self.booth.public_id, self.booth.token_hash)
        return Response({"ticket": ticket, "expires_in": tokens.TICKET_MAX_AGE})
