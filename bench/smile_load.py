"""N booths streaming real face frames to one daphne server over real WebSockets.

Starts daphne on loopback with PostgreSQL (a scratch database) and Redis as the channel
layer, pairs N booths, and has each send a real GENKI-4K face in a 640x480 JPEG at F
frames/s for S seconds, on a fixed schedule as a camera delivers them. Two loads: booths
starting at random points of the frame interval (independent cameras, what a venue
sees), and all booths sending at the same instants (the worst case: 16 frames arrive
together every 1/F s). Prints scores/s per booth (min, median), the round trip from
sending a frame to receiving its score (p50, p95) and the server's own time from
receiving a frame to sending its score (p95), next to one booth alone in the same run
(the reference), and the server's CPU time per scored frame (its process and the
scoring worker processes, ``BOOTHSITE_SMILE_PROCESSES``).

    .venv/bin/python bench/smile_load.py [--booths 16] [--fps 5] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_SEED = 5
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


def cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) of process ``pid`` and its descendants, by pid (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            out[current] = (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, IndexError, ValueError):
            continue
    return out


async def booth(
    url: str, ticket: str, images: list[bytes], fps: int, seconds: float, phase: float
) -> tuple[int, list[float], list[float]]:
    """Stream ``images`` at ``fps`` for ``seconds``, the first frame ``phase`` s late.

    Returns the number of scores received, the round trips (ms) and the server's own
    time per frame (the ``ms`` field of each score).
    """
    import websockets
    from websockets.typing import Origin, Subprotocol

    sent: dict[int, float] = {}
    rtts: list[float] = []
    server_ms: list[float] = []
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
                    server_ms.append(message["ms"])
                    started = sent.get(message["frame"])
                    if started is not None:
                        rtts.append((time.monotonic() - started) * 1000)

        task = asyncio.create_task(reader())
        start = time.monotonic() + phase
        for number in range(1, round(seconds * fps) + 1):
            # On a fixed schedule, as a camera delivers frames, whatever the replies do.
            await asyncio.sleep(max(0.0, start + (number - 1) / fps - time.monotonic()))
            sent[number] = time.monotonic()
            await socket_.send(images[number % len(images)])
        await asyncio.sleep(0.5)
        task.cancel()
    return scores, rtts, server_ms


async def run(
    url: str, tickets: list[str], images: list[bytes], fps: int, seconds: float, spread: bool
) -> tuple[list[float], list[float], list[float]]:
    """Run the booths together; ``spread``: each starts at a random point of the frame
    interval (independent cameras), else all send at the same instants (worst case)."""
    rng = random.Random(BENCH_SEED)
    phases = [rng.uniform(0, 1 / fps) if spread else 0.0 for _ in tickets]
    results = await asyncio.gather(
        *(booth(url, t, images, fps, seconds, ph) for t, ph in zip(tickets, phases, strict=True))
    )
    rates = [scores / seconds for scores, _, _ in results]
    rtts = [rtt for _, booth_rtts, _ in results for rtt in booth_rtts]
    server_ms = [ms for _, _, booth_ms in results for ms in booth_ms]
    return rates, rtts, server_ms


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
    tickets = [tokens.socket_ticket(b.public_id, b.token_hash) for b in booths]
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
        # Warm up: every scoring worker loads its models.
        asyncio.run(run(url, tickets[:4], images, args.fps, 3, spread=True))
        results = {
            "reference: one booth": asyncio.run(
                run(url, tickets[:1], images, args.fps, args.seconds / 2, spread=True)
            )
        }
        before = cpu_seconds(server.pid)
        results["load, random phases"] = asyncio.run(
            run(url, tickets, images, args.fps, args.seconds, spread=True)
        )
        after = cpu_seconds(server.pid)
        results["load, all in phase"] = asyncio.run(
            run(url, tickets, images, args.fps, args.seconds, spread=False)
        )
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
        f"{'rtt p50 ms':>12s}{'p95 ms':>8s}{'server p95 ms':>15s}"
    )
    for label, (r, t, ms) in results.items():
        print(
            f"{label:22s}{len(r):7d}{min(r):14.2f}{statistics.median(r):8.2f}"
            f"{p(t, 50):12.1f}{p(t, 95):8.1f}{p(ms, 95):15.1f}"
        )
    solo_p95 = p(results["reference: one booth"][1], 95)
    for label in ("load, random phases", "load, all in phase"):
        print(f"ratio {label} / reference: rtt p95 x{p(results[label][1], 95) / solo_p95:.2f}")
    server_ms = results["load, random phases"][2]
    main_pid = server.pid
    main_cpu = after.get(main_pid, 0.0) - before.get(main_pid, 0.0)
    workers_cpu = sum(after.values()) - sum(before.values()) - main_cpu
    per_frame = 1000 / max(len(server_ms), 1)
    print(
        "server CPU per scored frame, load with random phases: "
        f"{(main_cpu + workers_cpu) * per_frame:.1f} ms "
        f"(server process {main_cpu * per_frame:.1f} ms, "
        f"scoring workers {workers_cpu * per_frame:.1f} ms)"
    )


if __name__ == "__main__":
    main()
