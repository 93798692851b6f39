"""The event ZIP's throughput against reading the same files directly (issue 14.2).

``zip_figures(event)`` is called by ``bench/gallery.py`` on its event of 2,000 captures
(Django set up, files on disk; ~11 KB files there, so per-file costs dominate). It then
runs the same on an event of as many captures with photo-sized files (1280x720 JPEGs
at quality 90, ~150 KB, as booths store them; rows share a pool of 40 such files, so
the build takes seconds and a few MB of disk).

For each event it downloads the console's event ZIP
(``/console/<org>/<event>/download.zip``) through Django's test client, under WSGI (the
iterator as the server gets it) and under ASGI (``AsyncClient``: chunks read in a
worker thread, as daphne serves it), and reads every file the ZIP holds straight from
storage in the ZIP's chunk size. It prints MB/s for each and the ZIP's share of the
direct rate (target >= 0.8). Best of ``repeat``.

Two conditions, both printed:
- warm: the files sit in the page cache (just written, and a warm-up read goes first).
  Reading costs almost nothing there, so the ratio is the ZIP's own CPU cost against
  ``open`` and ``read``: the worst case.
- cold: an event of as many captures whose every row has its own file (~1.5 GB at 2,000
  captures), each evicted from the page cache (``posix_fadvise(DONTNEED)``) before every
  run, as when an organiser downloads an event that is no longer in memory. Linux only;
  elsewhere it is skipped.
"""

from __future__ import annotations

import io
import os
import time
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from events.models import Booth, Event

MB = 1_000_000
FILTERS = ("sepia", "grayscale", "green", "blue")


def photo_jpegs(count: int = 40) -> list[bytes]:
    """Return ``count`` different photo-like 1280x720 JPEGs (quality 90, ~150 KB each)."""
    from PIL import Image, ImageFilter

    gradient = Image.linear_gradient("L").resize((1280, 720)).convert("RGB")
    out = []
    for n in range(count):
        noise = Image.effect_noise((1280, 720), 50 + n % 20).filter(ImageFilter.GaussianBlur(1.2))
        buffer = io.BytesIO()
        Image.blend(gradient, noise.convert("RGB"), 0.35).save(buffer, "JPEG", quality=90)
        out.append(buffer.getvalue())
    return out


def photo_event(like: Event, captures: int, *, distinct: bool = False) -> Event:
    """Create an event of ``like``'s organiser with ``captures`` photo-sized captures.

    4 captures a session, 4 variants each, a strip a session, in bulk; every row names
    one of 40 stored JPEGs and carries its size. With ``distinct``, every row gets a
    file of its own (a copy of one of the 40), so no two rows share pages in the cache.
    """
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from events import services

    slug = "photo-party-cold" if distinct else "photo-party"
    event = services.create_event(like.organiser, name="Photo Party", slug=slug)
    booth = services.create_booth(like.organiser, name="Photo bench", event=event).booth
    prefix = f"{event.organiser.public_id}/{event.public_id}"
    images = photo_jpegs()
    files = -(-captures // 4) + 5 * captures if distinct else len(images)
    pool = [
        (default_storage.save(f"{prefix}/{uuid.uuid4()}.jpg", ContentFile(data)), len(data))
        for data in (images[n % len(images)] for n in range(files))
    ]
    return _fill_photo_event(event, booth, captures, pool, distinct=distinct)


def _fill_photo_event(
    event: Event, booth: Booth, captures: int, pool: list[tuple[str, int]], *, distinct: bool
) -> Event:
    """Insert the sessions, captures, variants and strips of ``photo_event`` in bulk.

    Rows take the files of ``pool`` in turn: each its own when ``distinct``, else
    round the pool (``(name, size)`` pairs).
    """
    from django.utils import timezone

    from captures.models import BoothSession, Capture, CaptureVariant, RenderStatus, Strip

    taken = iter(pool)

    def file(n: int) -> tuple[str, int]:
        return next(taken) if distinct else pool[n % len(pool)]

    now = timezone.now()
    count = -(-captures // 4)
    sessions = BoothSession.objects.bulk_create(
        BoothSession(booth=booth, event=event, status=BoothSession.Status.FINISHED,
                     started_at=now - timedelta(minutes=count - n))
        for n in range(count)
    )  # fmt: skip
    rows = []
    for n in range(captures):
        name, size = file(n)
        rows.append(
            Capture(
                session=sessions[n // 4], event=event, image=name, size_bytes=size,
                width=1280, height=720, sha256="0" * 64, render_status=RenderStatus.READY,
                taken_at=sessions[n // 4].started_at + timedelta(seconds=5 * (n % 4)),
            )
        )  # fmt: skip
    Capture.objects.bulk_create(rows, batch_size=500)
    variants = []
    for n, row in enumerate(rows):
        for k, filter_name in enumerate(FILTERS):
            name, size = file(n + k + 1)
            variants.append(
                CaptureVariant(
                    capture=row, event=event, filter=filter_name, image=name,
                    size_bytes=size, width=1280, height=720,
                )
            )  # fmt: skip
    CaptureVariant.objects.bulk_create(variants, batch_size=1000)
    strips = []
    for n, session in enumerate(sessions):
        name, size = file(n)
        strips.append(
            Strip(
                session=session, event=event, layout="horizontal_4", status=RenderStatus.READY,
                image=name, size_bytes=size, width=2560, height=480,
            )
        )  # fmt: skip
    Strip.objects.bulk_create(strips, batch_size=500)
    return event


def zip_figures(event: Event, *, repeat: int = 3) -> dict[str, float]:
    """Print the ZIP table for ``event`` and for a photo-sized event of as many captures.

    Returns the photo-sized event's MB/s by run name.
    """
    from captures.models import Capture

    captures = Capture.objects.filter(event=event).count()
    time_zip(event, repeat=repeat, title="the gallery bench's event")
    print()
    started = time.perf_counter()
    photos = photo_event(event, captures)
    built = time.perf_counter() - started
    rates = time_zip(photos, repeat=repeat, title=f"photo-sized files (built in {built:.1f} s)")
    if not hasattr(os, "posix_fadvise"):
        print("\n(cold runs skipped: this system has no posix_fadvise)")
        return rates
    print()
    started = time.perf_counter()
    cold = photo_event(event, captures, distinct=True)
    os.sync()  # written pages must be clean before they can be evicted
    built = time.perf_counter() - started
    title = f"photo-sized files, a file per row (built in {built:.1f} s)"
    return time_zip(cold, repeat=repeat, title=title, cold=True)


def evict(names: list[str]) -> None:
    """Drop the stored files ``names`` from the page cache (local storage, Linux)."""
    from django.core.files.storage import default_storage

    for name in names:
        descriptor = os.open(default_storage.path(name), os.O_RDONLY)
        try:
            os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(descriptor)


def time_zip(event: Event, *, repeat: int, title: str, cold: bool = False) -> dict[str, float]:
    """Time the event's ZIP (WSGI, ASGI) and the direct reads; print a table; MB/s by run.

    ``cold`` evicts every file from the page cache before each run; else a warm-up read
    fills it first.
    """
    from asgiref.sync import async_to_sync
    from django.contrib.auth.models import User
    from django.core.files.storage import default_storage
    from django.test import AsyncClient, Client

    from captures import archive
    from events.models import Membership
    from events.roles import Role

    user = User.objects.create_user(username=f"zip-bench-{uuid.uuid4().hex[:8]}")
    Membership.objects.create(user=user, organiser=event.organiser, role=Role.VIEWER)
    url = f"/console/{event.organiser.slug}/{event.slug}/download.zip"
    client = Client()
    client.force_login(user)
    async_client = AsyncClient()
    async_client.force_login(user)
    members = archive.event_archive(event).members
    data_bytes = sum(member.size for member in members)

    def direct() -> int:
        read = 0
        for member in members:
            with default_storage.open(member.name, "rb") as stored:
                while chunk := stored.read(archive.CHUNK_BYTES):
                    read += len(chunk)
        return read

    def checked(response: Any, got: int) -> int:
        if got != int(response["Content-Length"]):
            raise SystemExit(f"the ZIP sent {got} bytes of {response['Content-Length']}")
        return got

    def wsgi() -> int:
        response: Any = client.get(url)
        return checked(response, sum(len(chunk) for chunk in response.streaming_content))

    async def asgi_download() -> int:
        response: Any = await async_client.get(url)
        got = 0
        async for chunk in response.streaming_content:
            got += len(chunk)
        return checked(response, got)

    runs = {
        "read the files directly": direct,
        "event ZIP, WSGI": wsgi,
        # async_to_sync: the view's database work runs in this thread, on its connection.
        "event ZIP, ASGI": async_to_sync(asgi_download),
    }
    rates: dict[str, float] = {}
    sizes: dict[str, int] = {}
    names = [member.name for member in members]
    if not cold:
        direct()  # warm the page cache
    for _ in range(repeat):
        for name, run in runs.items():
            if cold:
                evict(names)
            started = time.perf_counter()
            sizes[name] = run()
            rate = sizes[name] / MB / (time.perf_counter() - started)
            rates[name] = max(rates.get(name, 0.0), rate)
    base = rates["read the files directly"]
    print(
        f"event ZIP, {title}: {len(members)} files, {data_bytes / MB:.1f} MB of photos, "
        f"ZIP {sizes['event ZIP, WSGI'] / MB:.1f} MB; best of {repeat}, "
        f"{'evicted from the page cache before each run' if cold else 'page cache warm'}, "
        f"CRC-32 by {'ISA-L (isal)' if archive.FAST_CRC32 else 'zlib'}"
    )
    print(f"{'run':34s}{'MB/s':>8s}{'of direct':>11s}")
    for name, rate in rates.items():
        print(f"{name:34s}{rate:8.0f}{rate / base:11.2f}")
    worst = min(rates["event ZIP, WSGI"], rates["event ZIP, ASGI"]) / base
    condition = "cold" if cold else "warm, the worst case"
    verdict = "met" if worst >= 0.8 else "MISSED"
    print(f"target >= 0.8 of direct ({condition}): {verdict} ({worst:.2f})")
    return rates
