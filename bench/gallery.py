"""Server time of the event gallery page (/g/<token>/) for an event of 2,000 captures.

Builds, in a scratch database, an event of ``--captures`` captures (4 a session), each
with 4 filtered variants, and one strip a session: rows inserted in bulk and small real
files on disk (one encoded JPEG's bytes reused), so the build takes seconds. On
PostgreSQL when ``DATABASE_URL`` is set (Django's test database beside it, created and
dropped), else on a scratch SQLite file. It then requests the gallery's first page with
Django's test client and prints the wall time per request, p50 and p95 (target p95 ≤ 150
ms), and the page's query count. The reference in the same run is the same page of an
event with no photos.

    .venv/bin/python bench/gallery.py [--captures 2000] [--n 60]
    DATABASE_URL=postgres://root@127.0.0.1:5432/h14a .venv/bin/python bench/gallery.py

``fill_event`` is shared: ``tests/captures/test_gallery_pages.py`` builds its 1,000
captures with it.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from events.models import Booth, Event

FILTERS = ("sepia", "mono", "warm", "cool")


def jpeg_bytes(size: tuple[int, int] = (640, 480)) -> bytes:
    """Return one small real JPEG (a gradient), encoded once and reused for every file."""
    from PIL import Image

    image = Image.linear_gradient("L").resize(size).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def fill_event(
    event: Event,
    booth: Booth,
    captures: int,
    *,
    per_session: int = 4,
    data: bytes | None = None,
    media_root: Path | None = None,
) -> None:
    """Insert ``captures`` rendered captures at ``event`` in bulk, as a busy party leaves.

    ``per_session`` captures a finished session (the last may have fewer), each with a
    variant per filter of ``FILTERS``, and one ready ``horizontal_4`` strip a session;
    sessions a minute apart, the newest now. Keys are ``storage.media_key``'s shape.
    With ``data`` and ``media_root``, every original, thumbnail, variant and strip is
    written there with those bytes (and ``size_bytes`` is their length); else the rows
    name files that do not exist. Runs in a few bulk inserts whatever ``captures`` is.
    """
    from django.utils import timezone

    from captures.models import BoothSession, Capture, CaptureVariant, RenderStatus, Strip

    size = len(data) if data is not None else 0
    prefix = f"{event.organiser.public_id}/{event.public_id}"
    folder = media_root / prefix if media_root is not None and data is not None else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)

    def key() -> str:
        name = f"{prefix}/{uuid.uuid4()}.jpg"
        if folder is not None and data is not None:
            (folder / name.rsplit("/", 1)[-1]).write_bytes(data)
        return name

    now = timezone.now()
    count = -(-captures // per_session)
    sessions = [
        BoothSession(
            booth=booth,
            event=event,
            status=BoothSession.Status.FINISHED,
            started_at=now - timedelta(minutes=count - n),
            finished_at=now - timedelta(minutes=count - n, seconds=-30),
        )
        for n in range(count)
    ]
    BoothSession.objects.bulk_create(sessions, batch_size=500)
    rows = []
    for n in range(captures):
        session = sessions[n // per_session]
        taken = session.started_at + timedelta(seconds=5 * (n % per_session))
        rows.append(
            Capture(
                session=session, event=event, image=key(), thumbnail=key(), width=640,
                height=480, size_bytes=size, sha256="0" * 64, taken_at=taken,
                render_status=RenderStatus.READY,
            )
        )  # fmt: skip
    Capture.objects.bulk_create(rows, batch_size=500)
    variants = [
        CaptureVariant(
            capture=capture, event=event, filter=name, image=key(), thumbnail=key(),
            width=640, height=480, size_bytes=size,
        )
        for capture in rows
        for name in FILTERS
    ]  # fmt: skip
    CaptureVariant.objects.bulk_create(variants, batch_size=1000)
    strips = [
        Strip(
            session=session, event=event, layout="horizontal_4", status=RenderStatus.READY,
            image=key(), thumbnail=key(), width=1280, height=400, size_bytes=size,
            created_at=session.started_at + timedelta(seconds=25),
        )
        for session in sessions
    ]  # fmt: skip
    Strip.objects.bulk_create(strips, batch_size=500)


def time_page(get: Callable[[], Any], n: int) -> tuple[list[float], int, float]:
    """Request a page ``n`` times (after 3 warm-ups); return ms each, queries, SQL ms."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        response = get()
        if response.status_code != 200:
            sys.exit(f"the page answered {response.status_code}")
    reset_queries()  # the log is a bounded deque: a full one captures nothing
    with CaptureQueriesContext(connection) as queries:
        get()
    sql_ms = sum(float(query["time"]) for query in queries.captured_queries) * 1000
    timings = []
    for _ in range(n):
        started = time.perf_counter()
        get()
        timings.append((time.perf_counter() - started) * 1000)
    return timings, len(queries.captured_queries), sql_ms


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def gallery_figures(captures: int, n: int, media_root: Path) -> Event:
    """Build the event, time its gallery page and the empty reference; print the table."""
    from django.test import Client

    from events import services
    from events.models import Organiser

    organiser = Organiser.objects.create(name="Bench", slug=f"bench-{uuid.uuid4().hex[:8]}")
    event = services.create_event(organiser, name="Summer Party", slug="summer-party")
    empty = services.create_event(organiser, name="Empty Party", slug="empty-party")
    booth = services.create_booth(organiser, name="Bench", event=event).booth
    started = time.perf_counter()
    fill_event(event, booth, captures, data=jpeg_bytes(), media_root=media_root)
    built = time.perf_counter() - started
    from django.db import connection

    if connection.vendor == "postgresql":  # a live table has statistics; fresh rows none
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    client = Client()
    full, queries, sql = time_page(lambda: client.get(event.gallery_path()), n)
    ref, ref_queries, ref_sql = time_page(lambda: client.get(empty.gallery_path()), n)
    page = client.get(event.gallery_path()).content
    print(
        f"gallery page, {captures} captures ({captures // 4} sessions, 4 variants each, "
        f"a strip a session; built in {built:.1f} s), {n} requests, wall ms"
    )
    print(f"{'page':34s}{'p50':>8s}{'p95':>8s}{'queries':>9s}{'SQL ms':>8s}")
    for label, times, count, sql_ms in [
        ("gallery, page 1", full, queries, sql),
        ("ref: empty event", ref, ref_queries, ref_sql),
    ]:
        print(f"{label:34s}{statistics.median(times):8.1f}{p95(times):8.1f}{count:9d}{sql_ms:8.1f}")
    verdict = "met" if p95(full) <= 150 else "MISSED"
    print(f"target p95 <= 150 ms: {verdict}; page 1 is {len(page) // 1024} KiB of HTML")
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    return event


def zip_figures(event: Event) -> None:
    """The event ZIP's MB/s against reading the same files (issue 14.2): bench/_zip_figures."""
    from bench._zip_figures import zip_figures as figures

    print()
    figures(event)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--captures", type=int, default=2000)
    parser.add_argument("--n", type=int, default=60)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="boothsite-gallery-bench-"))
    postgres = bool(os.environ.get("DATABASE_URL"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "boothsite.settings",
            "DEBUG": "true",
            "MEDIA_ROOT": str(scratch / "media"),
            "ALLOWED_HOSTS": "testserver",
            "CELERY_BROKER_URL": "memory://localhost/",
            "BOOTHSITE_LINK_MISS_RATE": "1000000/1m",
        }
    )
    os.environ.pop("REDIS_URL", None)
    import django
    from django.conf import settings

    if not postgres:
        settings.DATABASES["default"]["NAME"] = str(scratch / "bench.sqlite3")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if postgres:
        connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    else:
        call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    try:
        event = gallery_figures(args.captures, args.n, Path(settings.MEDIA_ROOT))
        zip_figures(event)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # the cold ZIP run leaves ~1.5 GB
        if postgres:
            # DROP … WITH (FORCE): a worker thread's connection may still be open.
            test_name = connection.settings_dict["NAME"]
            connection.close()
            with connection._nodb_cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{test_name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
