"""WebSocket routes, each with its own authentication; ``asgi`` checks the Origin first.

- ``/ws/booth/``: the booth kiosk, authenticated by a ticket in its subprotocols
  (``captures.ws_auth``), never by cookies;
- ``/ws/console/<organiser_slug>/`` and ``/ws/console/<organiser_slug>/<event_slug>/``:
  the console's live monitor, authenticated by the login session (Channels'
  ``AuthMiddlewareStack``: the session cookie, on these routes only);
- ``/ws/gallery/<gallery_token>/``: the event's live slideshow, for anyone with the
  gallery link (and, for a passcode gallery, a session that unlocked it: Channels'
  ``SessionMiddlewareStack``), ``captures.slideshow``.

Any other path is refused at the handshake (HTTP 403) rather than raising in the router.
"""

from __future__ import annotations

from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.sessions import SessionMiddlewareStack
from django.urls import path, re_path

from captures import consumers, monitor, slideshow
from captures.ws_auth import BoothTicketAuthMiddleware


class UnknownRoute(AsyncWebsocketConsumer):
    """Refuse the handshake of a socket to a path we do not serve (HTTP 403)."""

    async def connect(self) -> None:
        await self.close()


_monitor = AuthMiddlewareStack(monitor.MonitorConsumer.as_asgi())
# The slideshow reads the guest's session (passcode galleries it unlocked), no login.
_slideshow = SessionMiddlewareStack(slideshow.SlideshowConsumer.as_asgi())

websocket_urlpatterns: list[Any] = [
    path("ws/booth/", BoothTicketAuthMiddleware(consumers.BoothConsumer.as_asgi())),
    path("ws/console/<slug:organiser_slug>/", _monitor),  # type: ignore[arg-type]
    path("ws/console/<slug:organiser_slug>/<slug:event_slug>/", _monitor),  # type: ignore[arg-type]
    path("ws/gallery/<str:gallery_token>/", _slideshow),  # type: ignore[arg-type]
    re_path(r"", UnknownRoute.as_asgi()),  # type: ignore[arg-type]
]
