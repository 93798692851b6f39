"""Brokers that fail for real: a closed port, a private redis-server, a silent TCP server.

``PrivateRedis`` reserves a free port at once and starts redis-server on it only when
asked, so until then its URL is a broker that is down (connection refused). ``SilentServer``
accepts TCP connections and never answers, like a broker behind a dead NAT entry or a
hung process. ``celery_broker`` points this process's Celery app at one of them. The
machine's shared Redis is never touched.
"""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import kombu.pools
import pytest

from boothsite.celery import app, publish_breaker
from tests.daphne import free_port


def wait_for_port(port: int, seconds: float = 15.0) -> bool:
    """Return True once something accepts TCP on 127.0.0.1:``port``, False after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


class PrivateRedis:
    """A redis-server of the test's own on a free port, no persistence; down until started."""

    def __init__(self, folder: Path) -> None:
        if shutil.which("redis-server") is None:
            pytest.skip("redis-server is not installed (apt-get install -y redis-server)")
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        with (self.folder / f"redis-{self.port}.log").open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",  # noqa: S607
                 "--save", "", "--appendonly", "no", "--daemonize", "no",
                 "--dir", str(self.folder)],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        if not wait_for_port(self.port):
            self.stop()
            pytest.fail("the private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def messages(self) -> list[tuple[str, list[int]]]:
        """Return the Celery messages waiting in every queue: ``(task name, args)``."""
        import redis

        client = redis.Redis.from_url(self.url)
        found = []
        for key in client.keys("*"):
            if client.type(key) != b"list":
                continue
            for raw in client.lrange(key, 0, -1):
                message = json.loads(raw)
                args = json.loads(base64.b64decode(message["body"]))[0]
                found.append((message["headers"]["task"], args))
        client.close()
        return sorted(found)


class SilentServer:
    """A TCP server on a free port that accepts every connection and never answers.

    Stands in for a hung broker or Redis: connections succeed, every command waits.
    """

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.port = int(self.server.getsockname()[1])
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:  # closed
                return
            self.connections.append(connection)

    def close(self) -> None:
        self.server.close()
        for connection in self.connections:
            connection.close()


def reset_broker_pools() -> None:
    """Close this process's pooled broker connections, so the next publish reconnects.

    kombu keeps one pool per broker URL for the whole process: ``kombu.pools.reset``
    closes and forgets them all, and Celery's own references are dropped.
    """
    kombu.pools.reset()
    app._pool = None  # type: ignore[attr-defined]
    app.amqp._producer_pool = None  # type: ignore[attr-defined]


@contextmanager
def celery_broker(url: str) -> Iterator[None]:
    """Publish to the broker at ``url`` for real (not eagerly) inside the block."""
    conf = app.conf
    saved = (conf.broker_url, conf.task_always_eager)
    reset_broker_pools()
    publish_breaker.reset()
    conf.update(broker_url=url, task_always_eager=False)
    try:
        yield
    finally:
        conf.update(broker_url=saved[0], task_always_eager=saved[1])
        reset_broker_pools()
        publish_breaker.reset()
