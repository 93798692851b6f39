"""Project-wide DRF glue: the exception handler that keeps every API error JSON."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFilesSent
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from captures import imaging
from events.exceptions import DomainError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn Django's upload guards into JSON errors, then defer to DRF.

    ``RequestDataTooBig`` is not an APIException, so DRF would let Django answer with an
    HTML 400 (RELIABILITY 17); it becomes 413 with imaging's "too large" message.
    Domain errors carry their own status and user-facing message. Other
    ``SuspiciousOperation`` errors (too many files or fields) become a JSON 400.
    """
    if isinstance(exc, DomainError):
        return Response(
            {"detail": exc.message, "code": exc.code},
            status=exc.status_code,
            headers=exc.headers(),
        )
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": imaging.TOO_LARGE_MESSAGE},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, TooManyFilesSent):
        return Response(
            {"detail": "Too many files in one request."}, status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, SuspiciousOperation):
        return Response({"detail": "Bad request."}, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
