"""Run one whole booth session from image files: captures, variants, strip, SMS.

``--phone fictional`` texts one of Ofcom's drama numbers (+44 7700 900000 to 900999,
which reach no one and are accepted only with the console gateway): the first with no
message from this event in the last 24 hours, so the per-number cap never refuses it and
``bin/run``'s demo session works on every start. All drama numbers share one prefix, so
before a message would trip the pumping breaker (``BOOTHSITE_SMS_PREFIX_BURST`` to one
prefix in 10 minutes, which pauses the event's SMS until staff lift it) the session is
shared by QR code only, and the command says so.

A refused SMS (a cap, a pause, a number) stops the command before anything is stored,
with a message that says what to do instead.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from captures import imaging
from captures.models import BoothSession, Capture, RenderStatus
from events.exceptions import DomainError
from events.models import Booth, Event
from events.services import create_booth
from messaging import phones
from messaging.exceptions import SmsLimitReached, SmsPaused
from messaging.models import SmsMessage
from messaging.services import PREFIX_WINDOW, run_booth_session

CLI_BOOTH_NAME = "Command-line booth"
WAIT_SECONDS = 120
FICTIONAL = "fictional"
QR_ONLY = "or leave out --phone to share by QR code only."
# What each cap's message names (messaging.services._cap_refusal), the setting that
# sets it, its unit, and what the user can do besides waiting.
CAPS = (
    (
        "number",
        "BOOTHSITE_SMS_PER_NUMBER_PER_DAY",
        "messages a day to one number",
        "Text another number (--phone fictional picks a fresh drama number with the "
        "console gateway), ",
    ),
    (
        "booth",
        "BOOTHSITE_SMS_PER_BOOTH_PER_MINUTE",
        "messages a minute from one booth",
        "Wait a minute, ",
    ),
    ("event", "BOOTHSITE_SMS_PER_EVENT_PER_DAY", "messages a day for one event", "Wait, "),
    (
        "organiser",
        "BOOTHSITE_SMS_PER_ORGANISER_PER_MONTH",
        "messages a month per organiser",
        "Wait, ",
    ),
)


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
        parser.add_argument(
            "--phone",
            help="Text the guest link to this number (E.164), or 'fictional': the first of "
            "Ofcom's drama numbers (+44 7700 900000-900999, console gateway only) with no "
            "message today, so a demo can run any number of times.",
        )
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
        phone = options["phone"]
        if phone == FICTIONAL:
            phone = self._fictional_phone(event)
        try:
            run = run_booth_session(
                booth, data, event=event, phone=phone, layouts=layouts, on_capture=report
            )
        except imaging.InvalidImage as exc:
            msg = f"{images[len(captured)]}: {exc.message}"
            raise CommandError(msg) from None
        except SmsLimitReached as exc:
            raise CommandError(cap_help(exc)) from None
        except SmsPaused as exc:
            msg = (
                f"{exc.message} Staff lift the pause in the admin "
                f"({settings.SITE_URL}/admin/messaging/sendingpause/), {QR_ONLY}"
            )
            raise CommandError(msg) from None
        except phones.InvalidPhone as exc:
            msg = f"{exc.message} Give another number with --phone, {QR_ONLY}"
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

    def _fictional_phone(self, event: Event) -> str | None:
        """Return the first drama number the event has not texted in 24 hours, or None.

        None (share by QR code only, said on stdout) when one more message to the drama
        range would trip the pumping breaker, or when every number was texted today.
        """
        now = timezone.now()
        first, last = int(phones.FICTIONAL_FIRST[1:]), int(phones.FICTIONAL_LAST[1:])
        numbers = [f"+{digits}" for digits in range(first, last + 1)]
        ledger = SmsMessage.objects.for_event(event)
        prefix = phones.FICTIONAL_FIRST[:-4]  # the breaker's prefix: all but 4 digits
        recent = ledger.filter(to__startswith=prefix, created_at__gte=now - PREFIX_WINDOW)
        if recent.count() + 1 >= settings.BOOTHSITE_SMS_PREFIX_BURST:
            self.stdout.write(
                "No SMS this time, sharing by QR code only: one more message to the drama "
                "range would trip the pumping breaker (BOOTHSITE_SMS_PREFIX_BURST, "
                f"{settings.BOOTHSITE_SMS_PREFIX_BURST} in {PREFIX_WINDOW.seconds // 60} "
                "minutes), which pauses the event's SMS."
            )
            return None
        hashes = {phones.phone_hash(number): number for number in numbers}
        texted = set(
            ledger.filter(
                to_hash__in=hashes, created_at__gte=now - dt.timedelta(days=1)
            ).values_list("to_hash", flat=True)
        )
        for number_hash, number in hashes.items():
            if number_hash not in texted:
                self.stdout.write(
                    f"Texting the fictional number {number} (Ofcom's drama range: it reaches "
                    "no one)."
                )
                return number
        self.stdout.write(
            "No SMS this time, sharing by QR code only: every drama number had a message "
            "from this event in the last 24 hours."
        )
        return None

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


def cap_help(exc: SmsLimitReached) -> str:
    """Return the cap's message with what the user can do: ``exc`` is what a cap raised.

    Names the setting that raises the cap and when a retry can work; an unknown cap's
    message lists every cap's setting.
    """
    wait = ""
    if exc.retry_after is not None:
        wait = f" It frees up in {_duration(exc.retry_after)}."
    text = exc.message.lower()
    for word, setting, unit, advice in CAPS:
        if word in text:
            return (
                f"{exc.message}{wait} The cap is {getattr(settings, setting)} {unit} "
                f"({setting}). {advice}{QR_ONLY[:-1]}, or raise {setting}."
            )
    names = ", ".join(setting for _, setting, _, _ in CAPS)
    return f"{exc.message}{wait} The SMS caps are set by {names}; {QR_ONLY}"


def _duration(seconds: int) -> str:
    """Say ``seconds`` roughly: "45 seconds", "12 minutes", "23 hours"."""
    if seconds < 120:
        return f"{seconds} seconds"
    if seconds < 7200:
        return f"{round(seconds / 60)} minutes"
    return f"{round(seconds / 3600)} hours"
