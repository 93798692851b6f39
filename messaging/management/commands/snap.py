"""Run one whole booth session from image files: captures, variants, strip, SMS."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from captures import imaging
from captures.models import BoothSession, Capture, RenderStatus
from events.exceptions import DomainError
from events.models import Booth, Event
from events.services import create_booth
from messaging.services import run_booth_session

CLI_BOOTH_NAME = "Command-line booth"
WAIT_SECONDS = 120


class Command(BaseCommand):
    help = (
        "Run one booth session from image files (1 to 4 JPEG or PNG): store the captures, "
        "render the filtered variants and the strip, and text the link when --phone is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
        parser.add_argument("--event", required=True, help="The event's slug.")
        parser.add_argument(
            "--organiser", help="The organiser's slug, if the event slug is shared."
        )
        parser.add_argument("--phone", help="Text the guest link to this number (E.164).")
        parser.add_argument(
            "--layout",
            choices=sorted(imaging.STRIP_LAYOUTS),
            help="Strip layout (default: the event's layouts).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        event = self._event(options["event"], options["organiser"])
        images: list[Path] = options["images"]
        if len(images) > event.captures_per_session:
            msg = f"{event.name} allows at most {event.captures_per_session} photos per session."
            raise CommandError(msg)
        booth = self._booth(event)
        data = [self._read(path) for path in images]
        captured: list[Capture] = []

        def report(capture: Capture) -> None:
            self.stdout.write(f"Captured {images[len(captured)].name}")
            captured.append(capture)

        layouts = [options["layout"]] if options["layout"] else []
        try:
            run = run_booth_session(
                booth, data, event=event, phone=options["phone"], layouts=layouts, on_capture=report
            )
        except imaging.InvalidImage as exc:
            msg = f"{images[len(captured)]}: {exc.message}"
            raise CommandError(msg) from None
        except DomainError as exc:
            raise CommandError(exc.message) from None
        session = run.session
        self._wait_for_rendering(session)
        if run.sms is not None:
            run.sms.refresh_from_db()
            self.stdout.write(f"SMS {run.sms.public_id}: {run.sms.get_status_display()}")
        session.refresh_from_db()
        self.stdout.write(f"Share URL:      {session.share_url()}")
        self.stdout.write(f"Event gallery:  {event.gallery_url()}")

    def _read(self, path: Path) -> bytes:
        try:
            return path.read_bytes()
        except OSError as exc:
            msg = f"Cannot read {path}: {exc.strerror}."
            raise CommandError(msg) from None

    def _event(self, slug: str, organiser_slug: str | None) -> Event:
        events = Event.objects.filter(slug=slug).select_related("organiser")
        if organiser_slug:
            events = events.filter(organiser__slug=organiser_slug)
        found = list(events[:2])
        if not found:
            msg = f"No event with the slug {slug!r}."
            raise CommandError(msg)
        if len(found) > 1:
            msg = f"Several organisers have an event {slug!r}; name one with --organiser."
            raise CommandError(msg)
        return found[0]

    def _booth(self, event: Event) -> Booth:
        booth = (
            Booth.objects.for_organiser(event.organiser)
            .usable()
            .filter(name=CLI_BOOTH_NAME)
            .first()
        )
        if booth is None:
            booth = create_booth(event.organiser, name=CLI_BOOTH_NAME).booth
        return booth

    def _wait_for_rendering(self, session: BoothSession) -> None:
        """Wait for variants and strips (immediate in-process; a worker may take a moment)."""
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            pending = session.captures.filter(render_status=RenderStatus.PENDING).count()
            pending += session.strips.filter(status=RenderStatus.PENDING).count()
            if not pending:
                variants = sum(c.variants.count() for c in session.captures.all())
                strips = session.strips.filter(status=RenderStatus.READY).count()
                self.stdout.write(
                    f"Rendered {variants} variants and {strips} strip{'s' if strips != 1 else ''}"
                )
                return
            self.stdout.write(f"Waiting for the worker: {pending} item(s) rendering…")
            time.sleep(1)
        msg = "Rendering did not finish in time; is a Celery worker running?"
        raise CommandError(msg)
