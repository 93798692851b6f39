"""Booth endpoint that texts a guest the link to their session."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from captures import access
from captures.api import BoothAPIView
from messaging import services
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
    """``POST {"phone": "+447400123456"}`` → 202; the SMS is sent in the background."""

    def post(self, request: Request, session_id: str) -> Response:
        session = access.access_session_for_booth(self.booth, session_id)
        serializer = ShareSmsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            sms = services.queue_share_sms(self.booth, session, serializer.validated_data["phone"])
        except InvalidPhone as exc:
            return Response({"phone": [exc.message]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(
            {"id": str(sms.public_id), "status": sms.status}, status=status.HTTP_202_ACCEPTED
        )
