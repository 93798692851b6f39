"""DRF glue for booth kiosks: token authentication, permission, throttle, base view.

Every endpoint a booth calls with ``Authorization: Booth bth_…`` extends
``BoothAPIView``, so each one authenticates, authorises and throttles the same way.
Pairing (the one anonymous booth endpoint) has its own throttle in ``events.api``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from events import access, services
from events.models import Booth


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


class BoothAPIView(APIView):
    """Base of every booth endpoint: booth token auth, booth permission, booth throttle."""

    authentication_classes = [BoothTokenAuthentication]
    permission_classes = [IsBooth]
    throttle_classes = [BoothRateThrottle]

    @property
    def booth(self) -> Booth:
        """The authenticated booth (``IsBooth`` has already run)."""
        assert isinstance(self.request.auth, Booth)  # noqa: S101  (IsBooth ran)
        return self.request.auth
