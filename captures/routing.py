"""WebSocket routes, wrapped by the origin check and booth authentication in ``asgi``."""

from __future__ import annotations

from typing import Any

from django.urls import path

from captures import consumers

websocket_urlpatterns: list[Any] = [
    path("ws/booth/", consumers.BoothConsumer.as_asgi()),  # type: ignore[arg-type]
]
