"""Server time of one booth upload (POST .../captures/) at 640x480, rendering deferred.

Runs Django in-process on a scratch SQLite file with the embedded defaults, sends real
GENKI-4K photos scaled to 640x480 as multipart JPEG and as a JSON data URL, and prints
CPU ms (median, p95) per request. The reference in the same run is the same request
with the variants rendered inside it (Celery eager), as the seed did its work inline.

    .venv/bin/python bench/upload.py [--n 40]
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT.parent / "shared" / "data" / "genki4k-dev" / "files"
sys.path.insert(0, str(ROOT))


def photos_640(count: int) -> list[bytes]:
    from PIL import Image, ImageOps

    files = sorted(PHOTOS.glob("*.jpg"))[:count]
    out = []
    for path in files:
        image = ImageOps.fit(Image.open(path).convert("RGB"), (640, 480))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=90)
        out.append(buffer.getvalue())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40)
    args = parser.parse_args()
    if not PHOTOS.is_dir():
        sys.exit(f"skipped: {PHOTOS} is not there")
    scratch = Path(tempfile.mkdtemp(prefix="boothsite-upload-bench-"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "boothsite.settings",
            "DEBUG": "true",
            "MEDIA_ROOT": str(scratch / "media"),
            "ALLOWED_HOSTS": "testserver",
            "BOOTHSITE_BOOTH_RATE": "1000000/min",
            "CELERY_BROKER_URL": "memory://localhost/",
        }
    )
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    import django
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = str(scratch / "bench.sqlite3")
    django.setup()
    import logging

    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
    from django.core.management import call_command
    from rest_framework.test import APIClient

    from boothsite.celery import app
    from events import services

    call_command("migrate", verbosity=0)
    from events.models import Organiser

    organiser = Organiser.objects.create(name="Bench", slug="bench")
    event = services.create_event(organiser, name="Bench", slug="bench")
    token = services.create_booth(organiser, name="Bench", event=event).secret
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Booth {token}")
    images = photos_640(20)

    def run(kind: str, eager: bool) -> list[float]:
        app.conf.task_always_eager = eager
        timings = []
        for n in range(args.n):
            if n % 4 == 0:
                started_session = client.post("/api/v1/booth/sessions/")
                if started_session.status_code != 201:
                    sys.exit(f"cannot start a session: {started_session.content!r}")
                session = started_session.json()["id"]
            data = images[n % len(images)]
            url = f"/api/v1/booth/sessions/{session}/captures/"
            started = time.process_time()
            if kind == "multipart":
                upload = io.BytesIO(data)
                upload.name = "snap.jpg"
                response = client.post(url, {"image": upload}, format="multipart")
            else:
                body = {"image": "data:image/jpeg;base64," + base64.b64encode(data).decode()}
                response = client.post(url, body, format="json")
            timings.append((time.process_time() - started) * 1000)
            if response.status_code != 201:
                sys.exit(f"upload failed: {response.content!r}")
        return timings[2:]  # the first requests warm caches and imports

    print(f"booth upload, 640x480 JPEG, {args.n} requests each, CPU ms per request")
    print(f"{'request':34s}{'median':>8s}{'p95':>8s}{'ref median':>12s}{'ratio':>8s}")
    for kind in ("multipart", "json data URL"):
        deferred = run(kind, eager=False)
        inline = run(kind, eager=True)
        median, ref = statistics.median(deferred), statistics.median(inline)
        p95 = statistics.quantiles(deferred, n=20)[-1]
        print(f"{kind:34s}{median:8.2f}{p95:8.2f}{ref:12.2f}{median / ref:8.2f}")
    print("ref: the same request rendering its 4 variants inline (Celery eager)")


if __name__ == "__main__":
    main()
