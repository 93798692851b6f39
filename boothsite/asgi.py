"""ASGI entry point: HTTP through Django, WebSockets through Channels.

``get_asgi_application()`` runs first so the app registry is ready before any consumer
module imports models. Every WebSocket's Origin must be one of ``ALLOWED_HOSTS``
(``AllowedHostsOriginValidator``; a missing Origin is refused too), so a page of another
site cannot open the console's cookie-authenticated monitor socket; each route then
authenticates in its own way (``captures.routing``).
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "boothsite.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from captures import routing  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(URLRouter(routing.websocket_urlpatterns)),
    }
)
