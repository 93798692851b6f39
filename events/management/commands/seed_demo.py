"""Create (idempotently) a demo organiser, owner, event and booth, and print how to use them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.urls import reverse

from events import services
from events.models import Booth, Event, Organiser
from events.roles import Role

DEMO_ORGANISER = "demo"
DEMO_EVENT = "demo-party"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "boothsite-demo"  # noqa: S105  (documented demo login, refused without DEBUG)


class Command(BaseCommand):
    help = (
        "Create the demo organiser, owner, event and booth (again safely), issue a fresh "
        "booth token and one-time pairing link, and print the URLs to try."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off (the demo login has a published password).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            msg = "seed_demo creates a login with a published password; use --force with DEBUG off."
            raise CommandError(msg)
        with transaction.atomic():
            organiser, _ = Organiser.objects.get_or_create(
                slug=DEMO_ORGANISER, defaults={"name": "Demo Organiser"}
            )
            user, created = get_user_model().objects.get_or_create(
                username=DEMO_USERNAME, defaults={"email": "demo@example.com"}
            )
            if created or not user.check_password(DEMO_PASSWORD):
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            services.add_member(organiser, user, Role.OWNER)
            event = Event.objects.for_organiser(organiser).filter(slug=DEMO_EVENT).first()
            if event is None:
                event = services.create_event(organiser, name="Demo Party", slug=DEMO_EVENT)
            booth = Booth.objects.for_organiser(organiser).filter(name="Demo booth").first()
            if booth is None:
                issued = services.create_booth(organiser, name="Demo booth", event=event)
            else:
                if booth.revoked_at is not None:
                    booth.revoked_at = None
                    booth.save(update_fields=["revoked_at"])
                services.assign_event(booth, event)
                issued = services.rotate_booth_token(booth)
            pairing = services.issue_pairing_code(issued.booth)
        site = settings.SITE_URL
        lines = [
            f"Organiser:      {organiser.name} ({organiser.slug})",
            f"Event:          {event.name} (slug {event.slug})",
            f"Booth token:    {issued.secret}",
            "                (shown once; send it as 'Authorization: Booth <token>')",
            f"Booth page:     {site}{reverse('captures:booth')}#pair={pairing.secret}",
            "                (one-time pairing link, valid for "
            f"{settings.BOOTHSITE_PAIRING_TTL_SECONDS // 60} minutes)",
            f"Console:        {site}{reverse('events:login')}"
            f"  user {DEMO_USERNAME}  password {DEMO_PASSWORD}",
            f"Event gallery:  {event.gallery_url()}",
        ]
        self.stdout.write("\n".join(lines))
