"""Booths through real faults: a stopped broker, a stopped Redis, an unreachable SMTP server.

Starts, all on loopback and all private to the run: a scratch PostgreSQL database, two
redis-servers of its own (the Celery broker; the channel layer and cache), daphne, and
a Celery worker with beat. ``ADMINS`` is set and the SMTP server (``EMAIL_HOST``,
``EMAIL_PORT``) is a closed port, so every alert meets an unreachable mail server. The
machine's own PostgreSQL server holds the scratch database; its Redis is never touched.

Each phase runs booth sessions as the kiosk does (start, upload a real GENKI-4K photo,
finish, text the link) while one fault lasts, ends the fault, and waits for the rows to
settle. It prints, per phase: requests sent, 5xx answers that are not documented 503s,
documented 503s (SMS paused), rows left pending (captures and strips rendering, SMS
queued) and the seconds from the end of the fault until nothing is pending.

Targets (issue 11): 0 undocumented 5xx, 0 rows left pending, recovery within 30 s.

    .venv/bin/python bench/faults.py [--sessions 6] [--settle 90]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT.parent / "shared" / "data" / "genki4k-dev" / "files"
ADMIN_DB = "postgresql://root@127.0.0.1:5432/test"
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"nothing listens on port {port} after {seconds:.0f} s")


class Redis:
    """A private redis-server on a free port, no persistence; start and stop at will."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",  # noqa: S607
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@dataclass
class Tally:
    """What one phase's requests got back."""

    sent: int = 0
    undocumented_5xx: int = 0
    documented_503: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    def add(self, status: int, body: dict[str, object]) -> None:
        self.sent += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status == 503 and body.get("code") in {"sms_paused", "storage_unavailable"}:
            self.documented_503 += 1
        elif status >= 500:
            self.undocumented_5xx += 1


def request(
    base: str, token: str, method: str, path: str, body: bytes | None = None, ctype: str = ""
) -> tuple[int, dict[str, object]]:
    headers = {"Authorization": f"Booth {token}"}
    if ctype:
        headers["Content-Type"] = ctype
    req = urllib.request.Request(f"{base}{path}", data=body, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=30) as response:  # noqa: S310
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except (TimeoutError, urllib.error.URLError):
        return 599, {}
    try:
        parsed = json.loads(raw) if raw else {}
    except ValueError:
        parsed = {}
    return status, parsed if isinstance(parsed, dict) else {}


def multipart(image: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="snap.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + image
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def session(base: str, token: str, image: bytes, phone: str, tally: Tally) -> None:
    """One guest at a booth: start, one capture, finish, text the link."""
    status, created = request(base, token, "POST", "/api/v1/booth/sessions/")
    tally.add(status, created)
    if status != 201:
        return
    sid = created["id"]
    body, ctype = multipart(image)
    tally.add(*request(base, token, "POST", f"/api/v1/booth/sessions/{sid}/captures/", body, ctype))
    tally.add(*request(base, token, "POST", f"/api/v1/booth/sessions/{sid}/finish/"))
    payload = json.dumps({"phone": phone}).encode()
    tally.add(
        *request(
            base, token, "POST", f"/api/v1/booth/sessions/{sid}/share/sms/", payload,
            "application/json",
        )
    )  # fmt: skip


def pending_rows() -> int:
    from captures.models import Capture, RenderStatus, Strip
    from messaging.models import SmsMessage

    return (
        Capture.objects.filter(render_status=RenderStatus.PENDING).count()
        + Strip.objects.filter(status=RenderStatus.PENDING).count()
        + SmsMessage.objects.filter(status__in=["queued", "sending"]).count()
    )


def settle(seconds: float) -> tuple[float | None, int]:
    """Wait until no row is pending; return (seconds it took or None, rows left)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if pending_rows() == 0:
            return time.monotonic() - started, 0
        time.sleep(0.5)
    return None, pending_rows()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=6, help="booth sessions per phase")
    parser.add_argument("--settle", type=float, default=90, help="seconds to wait for recovery")
    args = parser.parse_args()
    if not PHOTOS.is_dir():
        sys.exit(f"skipped: {PHOTOS} is not there")
    if shutil.which("redis-server") is None:
        sys.exit("skipped: redis-server is not installed")
    import psycopg

    folder = Path(tempfile.mkdtemp(prefix="boothsite-faults-"))
    db_name = f"boothsite_faults_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_DB, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    broker, layer = Redis(folder), Redis(folder)
    broker.start()
    layer.start()
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "boothsite.settings",
        "DEBUG": "true",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": f"postgres://root@127.0.0.1:5432/{db_name}",
        "REDIS_URL": layer.url,
        "CELERY_BROKER_URL": broker.url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "MEDIA_ROOT": str(folder / "media"),
        "BOOTHSITE_SMS_GATEWAY": "console",
        "ADMINS": "ops@example.invalid",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(free_port()),  # closed: SMTP unreachable for the whole run
        "EMAIL_TIMEOUT": "3",
        "BOOTHSITE_SMILE_PROCESSES": "0",
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    from events import services
    from events.models import Organiser

    call_command("migrate", verbosity=0)
    organiser = Organiser.objects.create(name="Faults", slug="faults")
    event = services.create_event(organiser, name="Faults", slug="faults")
    tokens = [services.create_booth(organiser, name=f"B{n}", event=event).secret for n in range(8)]
    photos = sorted(PHOTOS.glob("*.jpg"))[:4]
    images = [path.read_bytes() for path in photos]
    logs = (folder / "daphne.log").open("wb"), (folder / "celery.log").open("wb")
    daphne = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
         "boothsite.asgi:application"],
        cwd=ROOT, env=env, stdout=logs[0], stderr=subprocess.STDOUT,
    )  # fmt: skip
    worker = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "celery", "-A", "boothsite", "worker", "-B", "--concurrency", "2",
         "--loglevel", "INFO", "--schedule", str(folder / "beat-schedule")],
        cwd=ROOT, env=env, stdout=logs[1], stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    results: list[tuple[str, Tally, float | None, int]] = []
    counter = iter(range(10**6))

    def phase(name: str, phones: str = "spread") -> Tally:
        tally = Tally()
        for n in range(args.sessions):
            number = next(counter)
            if phones == "adjacent":  # one prefix: trips the SMS pumping breaker
                phone = f"+44740012{number % 10000:04d}"
            else:  # a prefix of its own per message (prefix = all but the last 4 digits)
                phone = f"+44740{number:03d}1234"
            session(base, tokens[n % len(tokens)], images[n % len(images)], phone, tally)
        return tally

    try:
        wait_for_port(port)
        results.append(("no fault", phase("no fault"), *settle(args.settle)))

        broker.stop()
        tally = phase("broker stopped")
        broker.start()
        results.append(("broker stopped", tally, *settle(args.settle)))

        layer.stop()
        tally = phase("Redis (layer, cache) stopped")
        layer.start()
        results.append(("Redis stopped", tally, *settle(args.settle)))

        # Adjacent numbers: the breaker pauses the event and mails an alert that cannot go.
        saved, args.sessions = args.sessions, max(args.sessions, 22)
        tally = phase("SMTP unreachable", phones="adjacent")
        args.sessions = saved
        results.append(("SMTP unreachable", tally, *settle(args.settle)))
    finally:
        for process in (daphne, worker):
            process.terminate()
        for process in (daphne, worker):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        broker.stop()
        layer.stop()
        django.db.connections.close_all()
        with psycopg.connect(ADMIN_DB, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')

    print(f"daphne + Celery worker and beat + PostgreSQL + private Redis; logs in {folder}")
    print(
        f"{'fault':18s}{'requests':>9s}{'5xx':>5s}{'503 doc':>8s}{'pending':>8s}"
        f"{'recovery s':>11s}  statuses"
    )
    for name, tally, seconds, left in results:
        recovery = f"{seconds:.1f}" if seconds is not None else f">{args.settle:.0f}"
        print(
            f"{name:18s}{tally.sent:9d}{tally.undocumented_5xx:5d}{tally.documented_503:8d}"
            f"{left:8d}{recovery:>11s}  {json.dumps(tally.statuses)}"
        )
    ok = all(t.undocumented_5xx == 0 and left == 0 and (s or 99) <= 30 for _, t, s, left in results)
    print("targets (0 undocumented 5xx, 0 pending, recovery <= 30 s):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
