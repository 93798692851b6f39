"""PostgreSQL connections under a real daphne stay bounded (RELIABILITY 69, issue 11.1).

Daphne runs each request's sync code on a thread of its own. With persistent connections
(``CONN_MAX_AGE`` > 0) every such thread left a connection open: the audit saw 39-58 left
after 400 requests, and 500s once PostgreSQL ran out of slots. The settings now use
Django's psycopg pool, ``DATABASE_POOL_MAX_SIZE`` connections per process at most. The
in-process test client runs on one thread and cannot show any of this, so the server
here is a daphne subprocess on this test's own PostgreSQL database.
"""

from __future__ import annotations

import http.client
import itertools
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from tests.daphne import Daphne, free_port, server_env

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="needs DATABASE_URL (PostgreSQL); .ci/run sets it",
    ),
]

REQUESTS = 500
CONCURRENCY = 16
POOL_MAX_SIZE = 4
#: Far past the bound: stop sending, so a leak cannot exhaust the shared server's slots.
ABORT_MARGIN = 20


def connection_count() -> int:
    """Connections to this test's database, as PostgreSQL counts them (this one included)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def database_url() -> str:
    """The URL of the database this test writes to (``test_<name>``), for the server."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Daphne]:
    port = free_port()
    env = server_env(
        DATABASE_URL=database_url(),
        DATABASE_POOL_MAX_SIZE=str(POOL_MAX_SIZE),
        MEDIA_ROOT=str(tmp_path / "media"),
        SITE_URL=f"http://127.0.0.1:{port}",
        ALLOWED_HOSTS="127.0.0.1",
        BOOTHSITE_SMILE_PROCESSES="0",
        BOOTHSITE_BOOTH_RATE="100000/min",
        PYTHONUNBUFFERED="1",
    )
    running = Daphne(port=port, env=env, log=tmp_path / "daphne.log")
    running.start()
    yield running
    running.stop()


def get_me(port: int, token: str) -> int:
    """``GET /api/v1/booth/me/`` on a fresh TCP connection; the HTTP status (0 on failure)."""
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        client.request("GET", "/api/v1/booth/me/", headers={"Authorization": f"Booth {token}"})
        response = client.getresponse()
        response.read()
        return response.status
    except OSError:
        return 0
    finally:
        client.close()


def test_500_requests_keep_the_connection_count_within_the_pool(tenant_a, server):
    before = connection_count()
    bound = before + POOL_MAX_SIZE
    statuses: list[int] = []
    numbers = itertools.count()
    stop = threading.Event()

    def client() -> None:
        while not stop.is_set() and next(numbers) < REQUESTS:
            statuses.append(get_me(server.port, tenant_a.token))

    threads = [threading.Thread(target=client) for _ in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    samples = []
    while any(thread.is_alive() for thread in threads):
        samples.append(connection_count())
        if samples[-1] > bound + ABORT_MARGIN:
            stop.set()
        time.sleep(0.02)
    for thread in threads:
        thread.join()
    after = connection_count()
    counts = f"before {before}, during max {max(samples)}, after {after}; bound {bound}"
    print(f"\npg_stat_activity over {len(statuses)} requests: {counts}")  # noqa: T201
    assert len(statuses) == REQUESTS, f"stopped early: {counts}"
    assert max(samples) <= bound, counts
    assert after <= bound, counts
    assert set(statuses) == {200}, (
        f"{sorted(set(statuses))}: {counts}\n" + server.log_text()[-3000:]
    )
