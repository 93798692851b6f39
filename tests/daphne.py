"""A real daphne subprocess for tests that need the server's own sockets, logs or threads.

The in-process test client and ``WebsocketCommunicator`` hide what daphne itself does:
its thread per request (and so Django's connection per thread), its access log, its
socket limits. Tests here start ``python -m daphne boothsite.asgi:application`` exactly
as ``bin/run`` and a deployment do, with an environment of their own.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Variables a test's own environment may hold that would leak into the server's.
SERVER_VARIABLES = ("DATABASE_", "REDIS_", "CELERY_", "BOOTHSITE_", "VONAGE_", "AWS_")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago (bind to 0, read it back)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(**values: str) -> dict[str, str]:
    """Return this process's environment less Boothsite's variables, plus ``values``.

    ``DJANGO_SETTINGS_MODULE`` is ``boothsite.settings`` (the server runs the real
    settings, not the test overlay) and ``DEBUG`` is ``true`` unless ``values`` says
    otherwise.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith(SERVER_VARIABLES)}
    env |= {"DJANGO_SETTINGS_MODULE": "boothsite.settings", "DEBUG": "true"}
    return env | values


@dataclass
class Daphne:
    """One daphne server on ``port``, its stdout and stderr written to ``log``."""

    port: int
    env: dict[str, str]
    log: Path
    args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str, timeout: float = 120) -> str:
        """Run ``manage.py`` with the server's environment; return its stdout.

        :raises subprocess.CalledProcessError: when the command exits non-zero.
        """
        result = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
            capture_output=True, text=True, timeout=timeout, check=True,
        )  # fmt: skip
        return result.stdout

    def start(self, seconds: float = 30) -> None:
        """Start daphne and wait (at most ``seconds``) until it accepts connections.

        :raises RuntimeError: with the log's tail when it exits or never listens.
        """
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
                 *self.args, "boothsite.asgi:application"],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        msg = "daphne did not start: " + self.log.read_text(errors="replace")[-3000:]
        raise RuntimeError(msg)

    def stop(self) -> None:
        """Stop daphne (SIGTERM, then SIGKILL after 15 s) and wait for it to exit."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)
        self.process = None

    def log_text(self) -> str:
        """Return everything the server wrote so far (access log and Python logging)."""
        return self.log.read_text(errors="replace")


def sqlite_site(folder: Path, **settings: str) -> Daphne:
    """Build (not start) a daphne serving Boothsite from ``folder/db.sqlite3``.

    Embedded defaults otherwise: local media in ``folder/media``, the console SMS
    gateway, scoring in threads; ``settings`` are extra environment variables. Run
    ``manage("migrate", "--noinput")`` before ``start()``.
    """
    port = free_port()
    env = server_env(
        DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",
        MEDIA_ROOT=str(folder / "media"),
        SITE_URL=f"http://127.0.0.1:{port}",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        BOOTHSITE_SMILE_PROCESSES="0",
        BOOTHSITE_STORAGE="local",
        BOOTHSITE_SMS_GATEWAY="console",
        PYTHONUNBUFFERED="1",
        **settings,
    )
    return Daphne(port=port, env=env, log=folder / "daphne.log")
