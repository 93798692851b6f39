"""DRF glue for booth kiosks: token authentication, permission, throttle, base view.

Every endpoint a booth calls with ``Authorization: Booth bth_…`` extends
``BoothAPIView``, so each one authenticates, authorises, throttles, reads its body and
honours ``Idempotency-Key`` (where it sets ``idempotent = True``) the same way. Pairing
(the one anonymous booth endpoint) has its own throttle in ``events.api``.

Throttles count in the cache (Redis in production). While the cache is down, booth
throttles fail open, so booths keep uploading; ``THROTTLE_CACHE`` logs one warning per
outage and one line when the cache answers again, with no restart needed.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, ClassVar

from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponseBase
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from redis.exceptions import RedisError
from rest_framework import authentication, exceptions, permissions, serializers
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from events import access, idempotency, services
from events.models import Booth, IdempotencyKey

logger = logging.getLogger(__name__)

#: What the cache raises when its server is down or silent: redis-py's errors (its
#: ConnectionError and TimeoutError) and socket errors from other backends.
CACHE_ERRORS: tuple[type[Exception], ...] = (RedisError, OSError)


class CacheOutage:
    """Whether the throttles' cache is down, so that each outage is logged once.

    Per process and thread-safe. ``failed`` logs a warning on the first failure of an
    outage (not once per request); ``answered`` logs once when the cache works again.
    """

    def __init__(self) -> None:
        self.down = False
        self._lock = threading.Lock()

    def failed(self, scope: str, exc: Exception) -> None:
        """Note that the cache failed while ``scope``'s throttle counted."""
        with self._lock:
            first, self.down = not self.down, True
        if first:
            logger.warning(
                "Throttle cache unavailable (%s: %s): booth throttles fail open and "
                "pairing answers 503 until it is back.",
                type(exc).__name__,
                exc,
                extra={"scope": scope},
            )

    def answered(self) -> None:
        """Note that the cache answered; ends an outage."""
        if not self.down:
            return
        with self._lock:
            was_down, self.down = self.down, False
        if was_down:
            logger.warning("Throttle cache is back; throttles count again.")


THROTTLE_CACHE = CacheOutage()


class _Replay(Exception):
    """Raised in ``initial`` to answer with a stored response instead of running the view."""

    def __init__(self, response: Response) -> None:
        super().__init__("replay")
        self.response = response


class BoothTokenAuthentication(authentication.BaseAuthentication):
    """Authenticate ``Authorization: Booth bth_…`` and return ``(AnonymousUser(), booth)``.

    A missing header lets other authenticators try; a malformed, unknown or revoked token
    fails with 401 and one message, so a revoked token looks like a wrong one.
    """

    keyword = "Booth"

    def authenticate(self, request: Request) -> tuple[AnonymousUser, Booth] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if parts[0] != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid booth token.")
        booth = access.access_booth_by_token(parts[1])
        if booth is None:
            raise exceptions.AuthenticationFailed("Invalid booth token.")
        services.touch_booth(booth)
        return AnonymousUser(), booth

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class IsBooth(permissions.BasePermission):
    """Allow only requests authenticated by BoothTokenAuthentication."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, Booth)

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        return self.has_permission(request, view)


class BoothRateThrottle(SimpleRateThrottle):
    """Rate-limit by booth, not by client IP (which a venue's NAT or a proxy shares).

    The rate is ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["booth"]``
    (``BOOTHSITE_BOOTH_RATE``); requests without a booth are not counted here.
    """

    scope = "booth"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not isinstance(request.auth, Booth):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}

    def allow_request(self, request: Request, view: Any) -> bool:
        """Count the request; allow it (fail open) when the cache cannot be reached.

        A booth at an event must keep uploading through a Redis outage: the warning is
        logged once per outage (``THROTTLE_CACHE``), and counting resumes by itself.
        """
        try:
            allowed = super().allow_request(request, view)
        except CACHE_ERRORS as exc:
            THROTTLE_CACHE.failed(self.scope, exc)
            return True
        THROTTLE_CACHE.answered()
        return allowed


class BoothAPIView(APIView):
    """Base of every booth endpoint: booth token auth, booth permission, booth throttle.

    Then, for every unsafe method, the body is parsed before the view runs, so a
    malformed one is a 400 on every endpoint, read or not (RELIABILITY 71). A view that
    sets ``idempotent = True`` honours an ``Idempotency-Key`` header on POST
    (``events.idempotency``): the same key from the same booth gets the first answer
    again, and the view runs once.
    """

    authentication_classes = [BoothTokenAuthentication]
    permission_classes = [IsBooth]
    throttle_classes = [BoothRateThrottle]
    #: Whether POST honours ``Idempotency-Key`` (captures, finish and share do).
    idempotent: ClassVar[bool] = False
    _idempotency: IdempotencyKey | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication, permission, throttle
        if request.method in SAFE_METHODS:
            return
        data = request.data  # ParseError (400) or UnsupportedMediaType (415) here
        key = request.headers.get(idempotency.HEADER)
        if not self.idempotent or request.method != "POST" or key is None:
            return
        match = request.resolver_match
        record, created = idempotency.begin(
            self.booth,
            key,
            route=match.view_name if match else request.path[:100],
            fingerprint=idempotency.request_hash(request.method, request.path, data),
        )
        if not created:
            raise _Replay(idempotency.replay(record))
        self._idempotency = record

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, _Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        record, self._idempotency = self._idempotency, None
        if record is not None:
            render = getattr(response, "render", None)  # a DRF Response; not yet rendered
            if callable(render):
                render()  # store the exact bytes the client gets (Django's render: no-op)
            idempotency.finish(record, response.status_code, response.content)
        return response

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            # The view raised past DRF (a 500): forget the key, so a retry runs again.
            record, self._idempotency = self._idempotency, None
            if record is not None:
                idempotency.release(record)

    @property
    def booth(self) -> Booth:
        """The authenticated booth (``IsBooth`` has already run)."""
        assert isinstance(self.request.auth, Booth)  # noqa: S101  (IsBooth ran)
        return self.request.auth


class BoothTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Describe ``BoothTokenAuthentication`` in the OpenAPI schema as ``boothToken``."""

    target_class = BoothTokenAuthentication
    name = "boothToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A paired booth's token: `Authorization: Booth bth_…` "
            "(from `POST /api/v1/booth/pair/`; shown once).",
        }


# -- schema pieces every booth operation shares ------------------------------------------


class ErrorSerializer(serializers.Serializer[Any]):
    """An API error: ``{"detail": "…"}``, with ``code`` for domain errors (409, 429, 503)."""

    detail = serializers.CharField()
    code = serializers.CharField(required=False)


#: Why each error status answers, for the booth API's operations.
ERROR_DESCRIPTIONS: dict[int, str] = {
    400: 'Invalid input: field errors (`{"field": ["message"]}`) or a body that is '
    'not a JSON object (`{"detail": …}`).',
    401: "Missing, malformed, unknown or revoked booth token.",
    403: "Authenticated, but not as a booth.",
    404: "No such session for this booth (another booth's or organiser's looks the same).",
    409: "The event is archived, the session is finished, or there is nothing to share.",
    413: "Request body or photo too large.",
    415: "Unsupported Content-Type.",
    422: "This Idempotency-Key was already used with a different request.",
    429: "Too many requests (`Retry-After` when known).",
    503: "A dependency is down for a moment (`Retry-After`); nothing was stored.",
}

ERROR_EXAMPLES: dict[int, Any] = {
    400: {"image": ["No image was sent."]},
    401: {"detail": "Invalid booth token."},
    403: {"detail": "You do not have permission to perform this action."},
    404: {"detail": "No BoothSession matches the given query."},
    409: {"detail": "This session is finished.", "code": "session_finished"},
    413: {"detail": "This photo is too large."},
    415: {"detail": 'Unsupported media type "text/plain" in request.'},
    422: {"detail": "This Idempotency-Key was used for another request.", "code": "x"},
    429: {"detail": "Request was throttled. Expected available in 30 seconds."},
    503: {"detail": "Pairing is unavailable for a moment; try again in a minute."},
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """Return the schema's error responses ``{status: OpenApiResponse}`` for ``codes``.

    400 is a free-form object (field errors or ``detail``); every other status is an
    ``ErrorSerializer``. Each has its description and an example.
    """
    responses: dict[int, OpenApiResponse] = {}
    for code in codes:
        body: Any = OpenApiTypes.OBJECT if code == 400 else ErrorSerializer
        responses[code] = OpenApiResponse(
            response=body,
            description=ERROR_DESCRIPTIONS[code],
            examples=[
                OpenApiExample(
                    f"error {code}", value=ERROR_EXAMPLES[code], response_only=True,
                    status_codes=[str(code)],
                )
            ],
        )  # fmt: skip
    return responses


#: The errors every authenticated booth operation can answer.
BOOTH_ERRORS = (401, 403, 429)
#: The errors of every POST: its body is parsed before the view runs.
BODY_ERRORS = (400, 413, 415)
#: The errors ``Idempotency-Key`` adds: malformed (400), in use (409), reused (422).
IDEMPOTENCY_ERRORS = (400, 409, 422)
