"""The console's monitor socket under a real daphne: Origin, session cookie, refusals.

Channels' in-process communicator builds the scope itself; here daphne parses the
handshake's Origin and Cookie headers as a browser sends them, and a refusal is the
HTTP 403 a browser sees (RELIABILITY 42). The server is a daphne subprocess
(tests/daphne.py) on a SQLite file of its own; the client is the ``websockets`` package.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin, Subprotocol

from tests.socket_site import SocketSite

#: Two organisers with one booth each; prints each owner's session key and booth token.
SEED = """
from django.test import Client
from events import services
from events.models import Organiser
from events.roles import Role
from django.contrib.auth.models import User
for slug in ("alpha", "bravo"):
    organiser = Organiser.objects.create(name=slug.title(), slug=slug)
    event = services.create_event(organiser, name=f"{slug} party", slug="party")
    owner = User.objects.create_user(f"owner-{slug}", password="pw")
    services.add_member(organiser, owner, Role.OWNER)
    client = Client()
    client.force_login(owner)
    print("SESSION", slug, client.cookies["sessionid"].value)
    print("TOKEN", slug, services.create_booth(organiser, name=f"Booth {slug}", event=event).secret)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SocketSite, dict[str, str]]]:
    site = SocketSite.create(tmp_path_factory.mktemp("monitor"))
    site.manage("migrate", "--noinput")
    seeded = {}
    for line in site.shell(SEED).splitlines():
        if not line.startswith(("SESSION ", "TOKEN ")):
            continue  # logging (axes notes the sign-in)
        kind, slug, value = line.split()
        seeded[f"{kind.lower()}-{slug}"] = value
    site.start()
    yield site, seeded
    site.stop()


def monitor(
    site: SocketSite, path: str, *, session: str | None, origin: str | None
) -> ClientConnection:
    headers = {"Cookie": f"sessionid={session}"} if session else {}
    return connect(
        site.ws_url + path,
        origin=Origin(origin) if origin else None,
        additional_headers=headers,
        proxy=None,
        open_timeout=20,
        close_timeout=5,
    )


def refused(site: SocketSite, path: str, *, session: str | None, origin: str | None) -> int:
    with pytest.raises(InvalidStatus) as failed:
        monitor(site, path, session=session, origin=origin)
    return failed.value.response.status_code


def test_a_signed_in_owner_on_the_sites_origin_gets_the_snapshot(server):
    site, seeded = server
    with monitor(
        site, "/ws/console/alpha/", session=seeded["session-alpha"], origin=site.url
    ) as ws:
        snapshot = json.loads(ws.recv(timeout=20))
    assert snapshot["type"] == "snapshot"
    assert [booth["name"] for booth in snapshot["booths"]] == ["Booth alpha"]


def test_a_cross_origin_page_is_refused_even_with_the_session_cookie(server):
    site, seeded = server
    session = seeded["session-alpha"]
    assert (
        refused(site, "/ws/console/alpha/", session=session, origin="https://evil.example") == 403
    )
    assert refused(site, "/ws/console/alpha/", session=session, origin=None) == 403


@pytest.mark.parametrize(
    ("path", "session"),
    [
        ("/ws/console/alpha/", None),  # not signed in
        ("/ws/console/alpha/", "not-a-session"),
        ("/ws/console/alpha/", "session-bravo"),  # another organiser's owner
        ("/ws/console/alpha/party/", "session-bravo"),
        ("/ws/console/nope/", "session-bravo"),  # a missing organiser: the same refusal
        ("/ws/elsewhere/", "session-alpha"),  # a path we do not serve
    ],
)
def test_unauthenticated_foreign_and_missing_monitors_are_refused_alike(server, path, session):
    site, seeded = server
    cookie = seeded.get(session, session) if session else None
    assert refused(site, path, session=cookie, origin=site.url) == 403


def test_the_monitor_sees_a_booth_come_online_and_go_offline(server):
    site, seeded = server
    with monitor(
        site, "/ws/console/alpha/", session=seeded["session-alpha"], origin=site.url
    ) as ws:
        assert json.loads(ws.recv(timeout=20))["type"] == "snapshot"
        ticket = site.ticket(seeded["token-alpha"])
        kiosk = connect(
            site.ws_url + "/ws/booth/",
            subprotocols=[Subprotocol("boothsite.v1"), Subprotocol(f"ticket.{ticket}")],
            origin=Origin(site.url),
            proxy=None,
            open_timeout=20,
        )
        with kiosk:
            kiosk.send(json.dumps({"type": "queue", "pending": 2}))
            seen = [json.loads(ws.recv(timeout=20)) for _ in range(3)]
        assert [(m["type"], m.get("online")) for m in seen] == [
            ("presence", True), ("presence", True), ("queue", None)
        ]  # fmt: skip
        assert seen[2]["pending"] == 2
        assert json.loads(ws.recv(timeout=20))["online"] is False
    assert "Traceback" not in site.log()
