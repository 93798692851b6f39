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
direct rate (target >= 0.8). All runs read from the page cache (the files were just
written, and a warm-up read goes first): that is the ZIP's own CPU cost, the worst case
for the ratio; on S3 or a cold disk the reads themselves dominate. Best of ``repeat``.
"""

from __future__ import annotations

import io
import time
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from events.models import Event

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


def photo_event(like: Event, captures: int) -> Event:
    """Create an event of ``like``'s organiser with ``captures`` photo-sized captures.

    4 captures a session, 4 variants each, a strip a session, in bulk; every row names
    one of 40 stored JPEGs and carries its size.
    """
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from captures.models import BoothSession, Capture, CaptureVariant, RenderStatus, Strip
    from events import services

    event = services.create_event(like.organiser, name="Photo Party", slug="photo-party")
    booth = services.create_booth(like.organiser, name="Photo bench", event=event).booth
    prefix = f"{event.organiser.public_id}/{event.public_id}"
    pool = [
        (default_storage.save(f"{prefix}/{uuid.uuid4()}.jpg", ContentFile(data)), len(data))
        for data in photo_jpegs()
    ]
    now = timezone.now()
    count = -(-captures // 4)
    sessions = BoothSession.objects.bulk_create(
        BoothSession(booth=booth, event=event, status=BoothSession.Status.FINISHED,
                     started_at=now - timedelta(minutes=count - n))
        for n in range(count)
    )  # fmt: skip
    rows = Capture.objects.bulk_create(
        [
            Capture(
                session=sessions[n // 4], event=event, image=pool[n % 40][0],
                size_bytes=pool[n % 40][1], width=1280, height=720, sha256="0" * 64,
                taken_at=sessions[n // 4].started_at + timedelta(seconds=5 * (n % 4)),
                render_status=RenderStatus.READY,
            )
            for n in range(captures)
        ],
        batch_size=500,
    )  # fmt: skip
    CaptureVariant.objects.bulk_create(
        (
            CaptureVariant(
                capture=row, event=event, filter=name, image=pool[(n + k + 1) % 40][0],
                size_bytes=pool[(n + k + 1) % 40][1], width=1280, height=720,
            )
            for n, row in enumerate(rows)
            for k, name in enumerate(FILTERS)
        ),
        batch_size=1000,
    )  # fmt: skip
    Strip.objects.bulk_create(
        (
            Strip(
                session=session, event=event, layout="horizontal_4", status=RenderStatus.READY,
                image=pool[n % 40][0], size_bytes=pool[n % 40][1], width=2560, height=480,
            )
            for n, session in enumerate(sessions)
        ),
        batch_size=500,
    )  # fmt: skip
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
    return time_zip(photos, repeat=repeat, title=f"photo-sized files (built in {built:.1f} s)")


def time_zip(event: Event, *, repeat: int, title: str) -> dict[str, float]:
    """Time the event's ZIP (WSGI, ASGI) and the direct reads; print a table; MB/s by run."""
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
    direct()  # warm the page cache
    for _ in range(repeat):
        for name, run in runs.items():
            started = time.perf_counter()
            sizes[name] = run()
            rate = sizes[name] / MB / (time.perf_counter() - started)
            rates[name] = max(rates.get(name, 0.0), rate)
    base = rates["read the files directly"]
    print(
        f"event ZIP, {title}: {len(members)} files, {data_bytes / MB:.1f} MB of photos, "
        f"ZIP {sizes['event ZIP, WSGI'] / MB:.1f} MB; best of {repeat}, page cache warm, "
        f"CRC-32 by {'ISA-L (isal)' if archive.FAST_CRC32 else 'zlib'}"
    )
    print(f"{'run':34s}{'MB/s':>8s}{'of direct':>11s}")
    for name, rate in rates.items():
        print(f"{name:34s}{rate:8.0f}{rate / base:11.2f}")
    worst = min(rates["event ZIP, WSGI"], rates["event ZIP, ASGI"]) / base
    print(f"target >= 0.8 of direct: {'met' if worst >= 0.8 else 'MISSED'} ({worst:.2f})")
    return rates
