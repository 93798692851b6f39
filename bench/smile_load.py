"""N booths streaming real face frames to one daphne server over real WebSockets.

Starts daphne on loopback with PostgreSQL (a scratch database) and Redis as the channel
layer, pairs N booths, and has each send a real GENKI-4K face in a 640x480 JPEG at F
frames/s for S seconds. Prints scores/s per booth (min, median) and the round trip from
sending a frame to receiving its score (p50, p95), next to the same numbers for one
booth alone in the same run (the reference).

    .venv/bin/python bench/smile_load.py [--booths 16] [--fps 5] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT.parent / "shared" / "data" / "genki4k-dev" / "files"
sys.path.insert(0, str(ROOT))


def frames(count: int) -> list[bytes]:
    from PIL import Image, ImageOps

    out = []
    for path in sorted(PHOTOS.glob("*.jpg"))[:count]:
        face = ImageOps.contain(Image.open(path).convert("RGB"), (320, 320))
        canvas = Image.new("RGB", (640, 480), (110, 105, 100))
        canvas.paste(face, ((640 - face.width) // 2, (480 - face.height) // 2))
        buffer = io.BytesIO()
        canvas.save(buffer, "JPEG", quality=80)
        out.append(buffer.getvalue())
    return out


async def booth(
    url: str, ticket: str, images: list[bytes], fps: int, seconds: float
) -> tuple[int, list[float]]:
    import websockets
    from websockets.typing import Origin, Subprotocol

    sent: dict[int, float] = {}
    rtts: list[float] = []
    scores = 0
    async with websockets.connect(
        url,
        subprotocols=[Subprotocol("boothsite.v1"), Subprotocol(f"ticket.{ticket}")],
        origin=Origin("http://127.0.0.1"),
        max_size=2**20,
    ) as socket_:

        async def reader() -> None:
            nonlocal scores
            async for raw in socket_:
                message = json.loads(raw)
                if message["type"] == "smile":
                    scores += 1
                    started = sent.get(message["frame"])
                    if started is not None:
                        rtts.append((time.monotonic() - started) * 1000)

        task = asyncio.create_task(reader())
        end = time.monotonic() + seconds
        number = 0
        while time.monotonic() < end:
            number += 1
            sent[number] = time.monotonic()
            await socket_.send(images[number % len(images)])
            await asyncio.sleep(1 / fps)
        await asyncio.sleep(0.5)
        task.cancel()
    return scores, rtts


async def run(
    url: str, tickets: list[str], images: list[bytes], fps: int, seconds: float
) -> tuple[list[float], list[float]]:
    results = await asyncio.gather(*(booth(url, t, images, fps, seconds) for t in tickets))
    rates = [scores / seconds for scores, _ in results]
    rtts = [rtt for _, booth_rtts in results for rtt in booth_rtts]
    return rates, rtts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--booths", type=int, default=16)
    parser.add_argument("--fps", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    if not PHOTOS.is_dir():
        sys.exit(f"skipped: {PHOTOS} is not there")
    import psycopg

    db_name = f"boothsite_load_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("postgresql://root@127.0.0.1:5432/test", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "boothsite.settings",
        "DEBUG": "true",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "DATABASE_URL": f"postgres://root@127.0.0.1:5432/{db_name}",
        "REDIS_URL": "redis://127.0.0.1:6379/12",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "BOOTHSITE_WS_MAX_FPS": str(args.fps * 2),
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    from events import services, tokens
    from events.models import Organiser

    call_command("migrate", verbosity=0)
    organiser = Organiser.objects.create(name="Load", slug="load")
    event = services.create_event(organiser, name="Load", slug="load")
    booths = [
        services.create_booth(organiser, name=f"B{n}", event=event).booth
        for n in range(args.booths)
    ]
    tickets = [tokens.socket_ticket(b.public_id) for b in booths]
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
         "boothsite.asgi:application"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        url = f"ws://127.0.0.1:{port}/ws/booth/"
        images = frames(8)
        asyncio.run(run(url, tickets[:1], images, args.fps, 3))  # warm up: load the models
        solo_rates, solo_rtts = asyncio.run(
            run(url, tickets[:1], images, args.fps, args.seconds / 2)
        )
        rates, rtts = asyncio.run(run(url, tickets, images, args.fps, args.seconds))
    finally:
        server.terminate()
        server.wait(timeout=20)
        django.db.connections.close_all()
        with psycopg.connect("postgresql://root@127.0.0.1:5432/test", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')

    def p(values: list[float], q: int) -> float:
        return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else float("nan")

    print(
        f"daphne + PostgreSQL + channels-redis, {os.cpu_count()} cores; "
        f"frames {args.fps}/s per booth for {args.seconds:.0f} s"
    )
    print(
        f"{'run':22s}{'booths':>7s}{'scores/s min':>14s}{'median':>8s}"
        f"{'rtt p50 ms':>12s}{'p95 ms':>8s}"
    )
    for label, r, t, n in (
        ("reference: one booth", solo_rates, solo_rtts, 1),
        ("load", rates, rtts, args.booths),
    ):
        print(
            f"{label:22s}{n:7d}{min(r):14.2f}{statistics.median(r):8.2f}"
            f"{p(t, 50):12.1f}{p(t, 95):8.1f}"
        )
    print(f"ratio load / reference: rtt p95 x{p(rtts, 95) / p(solo_rtts, 95):.2f}")


if __name__ == "__main__":
    main()
