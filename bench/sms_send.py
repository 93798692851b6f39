"""SMS sends per second through the local Vonage TLS stub, with a real Celery worker.

Needs PostgreSQL and Redis on 127.0.0.1 (as on CI). Creates a scratch database, queues
N messages, starts ``celery worker`` processes and times until every message is
submitted; then, as the reference in the same run, sends N more straight through the
gateway in this process, one after another (no Celery, no limiter). The busiest second
seen by the stub shows the shared limiter at work.

    .venv/bin/python bench/sms_send.py [--messages 200] [--concurrency 2] [--rate 25]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--rate", type=int, default=25, help="BOOTHSITE_SMS_SEND_RATE")
    args = parser.parse_args()

    import psycopg

    from tests.vonage_stub import VonageStub

    db_name = f"boothsite_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("postgresql://root@127.0.0.1:5432/test", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    workdir = Path(tempfile.mkdtemp(prefix="boothsite-sms-bench-"))
    stub = VonageStub(workdir)
    queue = f"bench-{uuid.uuid4().hex[:6]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "boothsite.settings",
        "DEBUG": "true",
        "DATABASE_URL": f"postgres://root@127.0.0.1:5432/{db_name}",
        "REDIS_URL": "redis://127.0.0.1:6379/14",
        "MEDIA_ROOT": str(workdir / "media"),
        "BOOTHSITE_SMS_GATEWAY": "vonage",
        "VONAGE_API_KEY": "bench-key",
        "VONAGE_API_SECRET": "bench-secret",
        "VONAGE_SIGNATURE_SECRET": "bench-signature",
        "VONAGE_REST_HOST": stub.host,
        "REQUESTS_CA_BUNDLE": str(stub.ca_file),
        "BOOTHSITE_SMS_SEND_RATE": str(args.rate),
        "BOOTHSITE_SMS_PER_NUMBER_PER_DAY": "100000",
        "BOOTHSITE_SMS_PER_BOOTH_PER_MINUTE": "100000",
        "BOOTHSITE_SMS_PER_EVENT_PER_DAY": "100000",
        "BOOTHSITE_SMS_PREFIX_BURST": "100000",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command

    from captures import services as capture_services
    from events import services as event_services
    from events.models import Organiser
    from messaging import gateway, services
    from messaging.models import SmsMessage
    from tests.factories import image_bytes

    call_command("migrate", verbosity=0)
    cache.clear()
    organiser = Organiser.objects.create(name="Bench", slug="bench")
    event = event_services.create_event(organiser, name="Bench", slug="bench")
    booth = event_services.create_booth(organiser, name="Bench", event=event).booth
    session = capture_services.start_session(booth)
    capture_services.record_capture(session, image_bytes("JPEG", (640, 480)))

    from boothsite.celery import app

    worker = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "celery", "-A", "boothsite", "worker", "-Q", queue,
         "--concurrency", str(args.concurrency), "--loglevel", "WARNING",
         "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(3)  # let the worker connect before the clock starts
        started = time.monotonic()  # each message goes to the worker as it commits
        messages = [
            services.queue_share_sms(booth, session, f"+4474{n:08d}") for n in range(args.messages)
        ]
        while SmsMessage.objects.filter(status="submitted").count() < len(messages):
            if time.monotonic() - started > 600:
                sys.exit("timed out waiting for the worker")
            time.sleep(0.05)
        worker_seconds = time.monotonic() - started
        sent_by_worker = len(stub.requests)
        per_second: dict[int, int] = {}
        for request in stub.requests:
            second = int(request["at"])
            per_second[second] = per_second.get(second, 0) + 1
        busiest = max(per_second.values())
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        app.close()

    direct = gateway.VonageSmsGateway()
    started = time.monotonic()
    for n in range(args.messages):
        direct.send_sms(f"+4474{n:08d}", "bench", client_ref=uuid.uuid4().hex, callback_url="")
    direct_seconds = time.monotonic() - started
    stub.close()
    with psycopg.connect("postgresql://root@127.0.0.1:5432/test", autocommit=True) as conn:
        django.db.connections.close_all()
        conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')

    worker_rate = args.messages / worker_seconds
    direct_rate = args.messages / direct_seconds
    print(f"messages                         {args.messages}")
    duplicates = sent_by_worker - args.messages
    print(f"stub requests from the worker    {sent_by_worker} (duplicates: {duplicates})")
    label = f"worker (x{args.concurrency}), limiter {args.rate}/s"
    print(f"{label:34s}{worker_rate:7.1f} sends/s  ({worker_seconds:.2f} s)")
    print(f"reference: direct, sequential     {direct_rate:7.1f} sends/s  ({direct_seconds:.2f} s)")
    print(f"busiest second at the stub      {busiest:4d} requests")
    print(f"ratio worker / reference          {worker_rate / direct_rate:7.2f}")
    print(f"ratio worker / configured limit   {worker_rate / args.rate:7.2f}")


if __name__ == "__main__":
    main()
