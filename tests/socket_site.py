"""A booth site on a real daphne (tests/daphne.py) and a private redis-server, for sockets.

Faults in close codes, background tasks and the channel layer live in daphne and
autobahn; Channels' in-process ``WebsocketCommunicator`` hides them. ``SocketSite`` serves
``boothsite.asgi`` from a SQLite file of its own; its ``shell()`` runs code in another
Django process on the same database and channel layer, as a console request served by
another server would. ``PrivateRedis`` and ``SilentServer`` (re-exported from
``tests.outage``) are a redis-server a test may stop and start, and a Redis that accepts
connections and never answers; the machine's shared Redis is never touched.
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.daphne import Daphne, sqlite_site
from tests.outage import PrivateRedis, SilentServer


@dataclass
class SocketSite:
    """One Boothsite served by daphne from ``folder/db.sqlite3``."""

    folder: Path
    server: Daphne

    @classmethod
    def create(cls, folder: Path, **settings: str) -> SocketSite:
        """Build (not start) a site; ``settings`` are extra environment variables."""
        return cls(folder, sqlite_site(folder, **settings))

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.server.port}"

    def log(self) -> str:
        """Everything daphne (and the app's logging) wrote so far."""
        return self.server.log_text() if self.server.log.exists() else ""

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        self.server.stop()

    def manage(self, *args: str) -> str:
        """Run ``manage.py`` with the site's environment; fail the test with its stderr."""
        try:
            return self.server.manage(*args)
        except subprocess.CalledProcessError as failed:
            pytest.fail(f"manage.py {args[0]} failed:\n{failed.stderr[-3000:]}")

    def shell(self, code: str) -> str:
        """Run Python ``code`` in a Django process on this site's database and layer."""
        return self.manage("shell", "-c", code)

    def post(self, path: str, *, token: str) -> Any:
        """POST to the booth API with ``Authorization: Booth <token>``; the JSON answer."""
        request = urllib.request.Request(  # noqa: S310 - our own loopback server
            self.url + path, method="POST", headers={"Authorization": f"Booth {token}"}
        )
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
            return json.loads(response.read())

    def make_booths(self, count: int) -> list[str]:
        """Create ``count`` booths at one event (made once); return their API tokens."""
        out = self.shell(
            "from events import services; from events.models import Organiser\n"
            "o, _ = Organiser.objects.get_or_create(slug='sock', defaults={'name': 'Sock'})\n"
            "e = o.events.filter(slug='party').first() or "
            "services.create_event(o, name='Party', slug='party')\n"
            f"for n in range({count}):\n"
            "    print('TOKEN', services.create_booth(o, name=f'B{n}', event=e).secret)\n"
        )
        return [line.split()[1] for line in out.splitlines() if line.startswith("TOKEN ")]

    def ticket(self, token: str) -> str:
        """A socket ticket from ``POST /api/v1/booth/socket-ticket/``, as the kiosk gets it."""
        return str(self.post("/api/v1/booth/socket-ticket/", token=token)["ticket"])

    def direct_ticket(self, token: str) -> str:
        """A socket ticket made in a Django process (no HTTP, so no throttle and no cache)."""
        out = self.shell(
            "from events import access, tokens\n"
            f"booth = access.access_booth_by_token({token!r})\n"
            "print('TICKET', tokens.socket_ticket(booth.public_id, booth.token_hash))\n"
        )
        return next(line[7:] for line in out.splitlines() if line.startswith("TICKET "))

    def booth_service(self, token: str, call: str) -> str:
        """Run ``events.services.<call>`` with ``booth`` bound to the booth holding ``token``.

        ``call`` is for example ``"revoke_booth(booth)"``. Returns the new API token when
        the call issues one (rotation, pairing), else "".
        """
        out = self.shell(
            "from events import access, services\n"
            f"booth = access.access_booth_by_token({token!r})\n"
            f"issued = services.{call}\n"
            "print('TOKEN', getattr(issued, 'secret', ''))\n"
        )
        return next(line[6:] for line in out.splitlines() if line.startswith("TOKEN "))


__all__ = ["PrivateRedis", "SilentServer", "SocketSite"]
