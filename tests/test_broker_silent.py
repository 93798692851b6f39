"""A broker that accepts TCP and never answers, under a real daphne (issue 11.2).

RELIABILITY 51 and 74. Before the fix every request that committed work hung in its
on-commit publish for as long as the silent broker held the socket (the audit stopped
at 120 s). Here daphne serves ``boothsite.settings`` from a SQLite file with
``CELERY_BROKER_URL`` pointing at a server that accepts and never answers; each request
must answer within the client's timeout. Then the broker "comes back" (a private
redis-server), a real Celery worker starts, the sweepers run once, and the worker
renders the capture and the strip and sends the SMS, each exactly once.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests import factories
from tests.daphne import ROOT, Daphne, free_port, server_env
from tests.outage import PrivateRedis, SilentServer

logger = logging.getLogger(__name__)
#: Far longer than a bounded publish (about 3 s) and far shorter than a hang.
CLIENT_TIMEOUT = 20
SWEEP = (
    "import datetime as dt; from django.utils import timezone; "
    "from captures import services as c; from messaging import services as m; "
    "later = timezone.now() + dt.timedelta(minutes=3); "
    "print(c.sweep_renders(later)); print(m.sweep_queued_sms(later))"
)


def post(url: str, token: str, body: dict[str, Any] | None = None) -> tuple[int, Any, float]:
    """POST JSON with the booth's token; return (status, JSON answer, seconds taken)."""
    request = urllib.request.Request(  # noqa: S310 - our own loopback server
        url,
        data=json.dumps(body or {}).encode(),
        method="POST",
        headers={"Authorization": f"Booth {token}", "Content-Type": "application/json"},
    )
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=CLIENT_TIMEOUT) as response:  # noqa: S310
        return response.status, json.loads(response.read()), time.monotonic() - started


def rows(db: Path) -> tuple[Any, ...]:
    with sqlite3.connect(db) as conn:
        return (
            conn.execute("SELECT render_status, render_attempts FROM captures_capture").fetchall(),
            conn.execute("SELECT status, render_attempts FROM captures_strip").fetchall(),
            conn.execute("SELECT status, enqueue_attempts FROM messaging_smsmessage").fetchall(),
        )


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "boothsite", "worker", "--pool", "solo",
             "--loglevel", "INFO", "--without-gossip", "--without-mingle",
             "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def test_requests_answer_with_a_silent_broker_and_a_worker_completes_them_later(tmp_path):
    silent = SilentServer()
    port, db = free_port(), tmp_path / "db.sqlite3"
    env = server_env(
        DATABASE_URL=f"sqlite:///{db}", MEDIA_ROOT=str(tmp_path / "media"),
        SITE_URL=f"http://127.0.0.1:{port}", ALLOWED_HOSTS="127.0.0.1,localhost",
        BOOTHSITE_SMILE_PROCESSES="0", BOOTHSITE_SMS_GATEWAY="console",
        BOOTHSITE_STORAGE="local", CELERY_BROKER_URL=silent.url, PYTHONUNBUFFERED="1",
    )  # fmt: skip
    server = Daphne(port=port, env=env, log=tmp_path / "daphne.log")
    server.manage("migrate", "--noinput")
    seeded = re.search(r"Booth token:\s+(\S+)", server.manage("seed_demo"))
    assert seeded, "seed_demo printed no booth token"
    token = seeded.group(1)
    image = (
        "data:image/jpeg;base64,"
        + base64.b64encode(factories.image_bytes("JPEG", (640, 480))).decode()
    )
    server.start()
    try:
        code, session, _ = post(f"{server.url}/api/v1/booth/sessions/", token)
        assert code == 201
        base = f"{server.url}/api/v1/booth/sessions/{session['id']}"
        answers = {
            "captures": post(f"{base}/captures/", token, {"image": image}),
            "finish": post(f"{base}/finish/", token),
            "share": post(f"{base}/share/sms/", token, {"phone": "+447400123456"}),
        }
    finally:
        server.stop()
        silent.close()
    assert {name: code for name, (code, _, _) in answers.items()} == {
        "captures": 201, "finish": 202, "share": 202,
    }  # fmt: skip
    seconds = {name: round(took, 2) for name, (_, _, took) in answers.items()}
    logger.info("silent broker, seconds per request: %s", seconds)
    assert rows(db) == ([("pending", 1)], [("pending", 1)], [("queued", 1)]), seconds
    assert "left for the sweeper" in server.log_text()

    broker = PrivateRedis(tmp_path)
    broker.start()
    env["CELERY_BROKER_URL"] = broker.url
    worker_log = tmp_path / "worker.log"
    worker = start_worker(env, worker_log)
    try:
        server.env = env
        server.manage("shell", "-c", SWEEP)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and rows(db) != (
            [("ready", 2)], [("ready", 2)], [("submitted", 2)],
        ):  # fmt: skip
            time.sleep(0.25)
    finally:
        stop(worker)
        broker.stop()
    log = worker_log.read_text()
    assert rows(db) == ([("ready", 2)], [("ready", 2)], [("submitted", 2)]), log[-3000:]
    for task in ("render_variants", "render_strips", "send_sms_message"):
        assert len(re.findall(rf"Task \S+\.{task}\[\S+\] succeeded", log)) == 1, log[-3000:]
    assert "7400123456" not in log
    assert "+447400123456" not in server.log_text()
