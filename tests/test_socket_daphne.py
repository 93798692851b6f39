"""The booth socket under a real daphne: close codes, limits, revocation, Redis outages.

These faults live in daphne and autobahn (which refuse some close codes) and in the
channel layer, so the in-process communicator of tests/captures/test_consumers.py cannot
show them (RELIABILITY 44-48, 72, 73). Each server is a daphne subprocess on a SQLite file
of its own; the client is the ``websockets`` package, speaking the kiosk's subprotocols.
Revocations run ``events.services`` in another Django process on the same database and
channel layer, as the console would.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin, Subprotocol

from captures import consumers
from tests import factories
from tests.socket_site import PrivateRedis, SilentServer, SocketSite

OVER_LIMIT_SECONDS = 2
RECHECK_SECONDS = 1
FRAME = factories.image_bytes("JPEG", (64, 48), (0, 0, 0))


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied by each server (one migrate per module)."""
    folder = tmp_path_factory.mktemp("template")
    SocketSite.create(folder).manage("migrate", "--noinput")
    return folder / "db.sqlite3"


def serve(folder: Path, migrated: Path, **settings: str) -> SocketSite:
    shutil.copy(migrated, folder / "db.sqlite3")
    server = SocketSite.create(folder, **settings)
    server.start()
    return server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, migrated: Path) -> Iterator[SocketSite]:
    """Embedded defaults: in-memory channel layer, short limits for bounded tests."""
    running = serve(
        tmp_path_factory.mktemp("embedded"),
        migrated,
        BOOTHSITE_WS_OVER_LIMIT_SECONDS=str(OVER_LIMIT_SECONDS),
        BOOTHSITE_WS_RECHECK_SECONDS=str(RECHECK_SECONDS),
        BOOTHSITE_WS_MAX_FPS="5",
    )
    yield running
    running.stop()


@pytest.fixture
def token(server: SocketSite) -> str:
    return server.make_booths(1)[0]


def open_socket(server: SocketSite, ticket: str) -> ClientConnection:
    """Connect as the kiosk does: its origin and the two subprotocols."""
    return connect(
        server.ws_url + "/ws/booth/",
        subprotocols=[Subprotocol("boothsite.v1"), Subprotocol(f"ticket.{ticket}")],
        origin=Origin(server.url),
        proxy=None,
        open_timeout=20,
        close_timeout=5,
    )


@dataclass
class Closed:
    code: int | None  # None: the socket was still open at the deadline
    received: list[str]


def run_until_closed(
    socket: ClientConnection, *, seconds: float, send: bytes | None = None, fps: float = 4.0
) -> Closed:
    """Read (and send ``send`` at ``fps``, if given) until the server closes or ``seconds``."""
    received: list[str] = []
    deadline = time.monotonic() + seconds
    next_send = time.monotonic()
    try:
        while time.monotonic() < deadline:
            if send is not None and time.monotonic() >= next_send:
                socket.send(send)
                next_send += 1.0 / fps
            wait = next_send - time.monotonic() if send is not None else 0.1
            with contextlib.suppress(TimeoutError):
                received.append(str(socket.recv(timeout=max(wait, 0.001))))
    except ConnectionClosed as closed:
        return Closed(closed.rcvd.code if closed.rcvd else 1006, received)
    return Closed(None, received)


def no_tracebacks(server: SocketSite) -> None:
    log = server.log()
    assert "Traceback" not in log, log[-3000:]
    assert "Task exception was never retrieved" not in log, log[-3000:]


def test_a_frame_over_the_cap_closes_with_4009_not_1011(server, token):
    with open_socket(server, server.ticket(token)) as socket:
        socket.send(os.urandom(512 * 1024 + 1))
        assert run_until_closed(socket, seconds=10).code == 4009
    no_tracebacks(server)


def test_ten_bad_frames_close_the_socket_with_4000(server, token):
    with open_socket(server, server.ticket(token)) as socket:
        closed = run_until_closed(socket, seconds=10, send=b"not a jpeg at all", fps=4)
    assert closed.code == 4000
    errors = [m for m in closed.received if '"invalid_frame"' in m]
    assert len(errors) == consumers.MAX_BAD_FRAMES - 1  # the tenth is answered by the close
    no_tracebacks(server)


def test_40_frames_a_second_close_with_4008_after_the_limit(server, token):
    started = time.monotonic()
    with open_socket(server, server.ticket(token)) as socket:
        closed = run_until_closed(socket, seconds=OVER_LIMIT_SECONDS + 8, send=FRAME, fps=40)
    assert closed.code == 4008
    assert time.monotonic() - started > OVER_LIMIT_SECONDS
    assert any('"rate_limited"' in m for m in closed.received)
    no_tracebacks(server)


def test_the_kiosk_rate_is_never_closed(server, token):
    with open_socket(server, server.ticket(token)) as socket:
        closed = run_until_closed(socket, seconds=OVER_LIMIT_SECONDS + 1.5, send=FRAME, fps=4)
    assert closed.code is None
    assert not any('"rate_limited"' in m for m in closed.received)


def test_a_ticket_from_before_a_rotation_is_refused(server, token):
    old_ticket = server.ticket(token)
    new_token = server.booth_service(token, "rotate_booth_token(booth)")
    with pytest.raises(InvalidStatus) as refused:
        open_socket(server, old_ticket)
    assert refused.value.response.status_code == 403
    with open_socket(server, server.ticket(new_token)):
        pass  # the new token's ticket connects


def test_a_socket_open_before_a_revocation_closes_on_its_next_frames(server, token):
    # The in-memory layer cannot carry the other process's push: the re-check must.
    with open_socket(server, server.ticket(token)) as socket:
        socket.send(FRAME)
        socket.recv(timeout=30)  # scored: the socket is live
        server.booth_service(token, "revoke_booth(booth)")
        closed = run_until_closed(socket, seconds=RECHECK_SECONDS + 5, send=FRAME, fps=4)
    assert closed.code == 4003
    no_tracebacks(server)


needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"),
    reason="needs REDIS_URL: the push crosses processes through the Redis channel layer",
)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory, migrated: Path) -> Iterator[SocketSite]:
    """Daphne on the Redis channel layer of ``REDIS_URL``; no re-check within the test."""
    running = serve(
        tmp_path_factory.mktemp("redis"),
        migrated,
        REDIS_URL=os.environ.get("REDIS_URL", ""),
        BOOTHSITE_WS_RECHECK_SECONDS="600",
    )
    yield running
    running.stop()


@needs_redis
@pytest.mark.parametrize(
    "call",
    [
        "revoke_booth(booth)",
        "rotate_booth_token(booth)",
        "pair_booth(services.issue_pairing_code(booth).secret)",
    ],
)
def test_revoking_rotating_or_re_pairing_closes_open_sockets_at_once(redis_server, call):
    token = redis_server.make_booths(1)[0]
    with open_socket(redis_server, redis_server.ticket(token)) as socket:
        redis_server.booth_service(token, call)
        assert run_until_closed(socket, seconds=2).code == 4003
    no_tracebacks(redis_server)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    redis = PrivateRedis(tmp_path)
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture
def silent_redis() -> Iterator[SilentServer]:
    silent = SilentServer()
    yield silent
    silent.close()


@pytest.fixture
def site_on(tmp_path: Path, migrated: Path) -> Iterator[Callable[..., SocketSite]]:
    """``site_on(REDIS_URL=...)``: a server of this test's own, stopped after it."""
    sites: list[SocketSite] = []

    def start(**settings: str) -> SocketSite:
        sites.append(serve(tmp_path, migrated, **settings))
        return sites[-1]

    yield start
    for site in sites:
        site.stop()


def test_with_redis_down_sockets_close_with_4013_and_recover(private_redis, site_on):
    server = site_on(REDIS_URL=private_redis.url)
    tokens = server.make_booths(3)
    tickets = [server.ticket(t) for t in tokens]
    with open_socket(server, tickets[0]) as before:
        before.send(FRAME)
        assert '"smile"' in str(before.recv(timeout=30))
        private_redis.stop()
        assert run_until_closed(before, seconds=10).code == 4013
    for ticket in tickets[1:]:
        with open_socket(server, ticket) as refused:
            assert run_until_closed(refused, seconds=10).code == 4013
    errors = [line for line in server.log().splitlines() if " ERROR " in line]
    assert len(errors) == 1, errors  # one line for the outage, not one per socket
    private_redis.start()
    with open_socket(server, server.ticket(tokens[0])) as after:
        after.send(FRAME)
        assert '"smile"' in str(after.recv(timeout=30))
    no_tracebacks(server)


def test_a_silent_redis_refuses_sockets_with_4013_within_the_timeout(silent_redis, site_on):
    server = site_on(REDIS_URL=silent_redis.url, BOOTHSITE_WS_LAYER_TIMEOUT_SECONDS="1")
    ticket = server.direct_ticket(server.make_booths(1)[0])
    with open_socket(server, ticket) as refused:
        assert run_until_closed(refused, seconds=10).code == 4013  # the handshake did not hang
    no_tracebacks(server)
