"""WebSocket routes, wrapped by the origin check in ``boothsite.asgi``."""

from __future__ import annotations

from typing import Any

# TODO(#4): the live smile consumer at /ws/booth/ joins here.
websocket_urlpatterns: list[Any] = []
