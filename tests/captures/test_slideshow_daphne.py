"""The slideshow's socket under a real daphne, on a Redis channel layer of its own.

In production a capture is rendered by a Celery worker, another process than the daphne
serving the slideshow: the push crosses processes through Redis. Here ``shell()`` plays
the worker (it renders and hides in a Django process of its own, on the same database
and layer), and daphne parses the handshake's Origin and Cookie headers as a browser
sends them; a refusal is the HTTP 403 a browser sees.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from tests.socket_site import PrivateRedis, SocketSite

SEED = """
from events import services
from events.models import Organiser
organiser = Organiser.objects.create(name="Alpha", slug="alpha")
event = services.create_event(organiser, name="Alpha party", slug="party")
services.create_booth(organiser, name="Booth alpha", event=event)
print("TOKEN", event.gallery_token)
"""

SNAP = """
from captures import services
from events.models import Booth
from tests import factories
session = services.start_session(Booth.objects.get())
capture = services.record_capture(session, factories.image_bytes("JPEG", (64, 48)))
services.render_variants(capture)  # what the worker does; announced after its commit
print("CAPTURE", capture.public_id)
"""

HIDE = """
from captures import services
from captures.models import Capture
services.hide_capture(Capture.objects.get(public_id={capture!r}))
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SocketSite, str]]:
    folder = tmp_path_factory.mktemp("slideshow")
    redis = PrivateRedis(folder)
    redis.start()
    site = SocketSite.create(folder, REDIS_URL=redis.url)
    try:
        site.manage("migrate", "--noinput")
        token = next(
            line.split()[1] for line in site.shell(SEED).splitlines() if line.startswith("TOKEN ")
        )
        site.start()
        yield site, token
    finally:
        site.stop()
        redis.stop()


def open_show(site: SocketSite, token: str, *, origin: str | None) -> ClientConnection:
    return connect(
        f"{site.ws_url}/ws/gallery/{token}/",
        origin=Origin(origin) if origin else None,
        proxy=None,
        open_timeout=20,
        close_timeout=5,
    )


def refused(site: SocketSite, token: str, *, origin: str | None) -> int:
    with pytest.raises(InvalidStatus) as failed:
        open_show(site, token, origin=origin)
    return failed.value.response.status_code


def test_a_capture_rendered_in_another_process_is_pushed_and_its_hiding_too(server):
    site, token = server
    with open_show(site, token, origin=site.url) as show:
        out = site.shell(SNAP)
        capture = next(line.split()[1] for line in out.splitlines() if line.startswith("CAPTURE "))
        slide = json.loads(show.recv(timeout=20))
        assert slide["type"] == "slide"
        assert slide["slide"]["id"] == capture
        assert set(slide["slide"]) == {"id", "kind", "url", "width", "height"}
        site.shell(HIDE.format(capture=capture))
        assert json.loads(show.recv(timeout=20)) == {"type": "remove", "ids": [capture]}
    assert "Traceback" not in site.log()
    assert token not in site.log()  # the access log redacts the socket's path


def test_a_foreign_origin_no_origin_and_a_wrong_token_are_refused_with_403(server):
    site, token = server
    assert refused(site, token, origin="https://evil.example") == 403
    assert refused(site, token, origin=None) == 403
    assert refused(site, "x" * 43, origin=site.url) == 403
