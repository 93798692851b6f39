"""Create (idempotently) a demo organiser, owner, event and booth, and print how to use them.

Running it again (``bin/run`` does on every start) never unpairs a paired kiosk: the
booth keeps its token, and only a fresh one-time pairing link is issued (issuing a code
revokes nothing; a kiosk that redeems it gets a new token, which is pairing). The token
is printed on the run that creates the booth, and with ``--rotate``, which replaces it on
purpose. A revoked demo booth is restored with a new token: its old one stays dead.
"""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress  # type: ignore[import-untyped]
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
DEMO_PASSWORD = "boothsite-demo"  # noqa: S105  (documented demo login, refused in production)


class Command(BaseCommand):
    help = (
        "Create the demo organiser, owner, event and booth (again safely, keeping the "
        "booth's token so a paired kiosk stays paired), issue a one-time pairing link, "
        "and print the URLs to try. --rotate gives the booth a new token."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even in production (the demo login has a published password).",
        )
        parser.add_argument(
            "--rotate",
            action="store_true",
            help="Give the demo booth a new token and print it; the old one (and the kiosk "
            "paired with it) stops working at once.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.EMBEDDED and not options["force"]:
            msg = (
                "seed_demo creates a login with a published password; use --force in "
                "production (DEBUG and BOOTHSITE_EMBEDDED off)."
            )
            raise CommandError(msg)
        with transaction.atomic():
            organiser, _ = Organiser.objects.get_or_create(
                slug=DEMO_ORGANISER, defaults={"name": "Demo Organiser"}
            )
            user, created = get_user_model().objects.get_or_create(
                username=DEMO_USERNAME, defaults={"email": "demo@example.com"}
            )
            # Set on creation only: a password changed since (changepassword demo, before a
            # party on a shared Wi-Fi) stays changed.
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            password = DEMO_PASSWORD if user.check_password(DEMO_PASSWORD) else "(the one you set)"
            services.add_member(organiser, user, Role.OWNER)
            if user.email:  # a verified address: the console opens (issue 13.1)
                EmailAddress.objects.update_or_create(
                    user=user, email=user.email, defaults={"verified": True, "primary": True}
                )
            event = Event.objects.for_organiser(organiser).filter(slug=DEMO_EVENT).first()
            if event is None:
                event = services.create_event(organiser, name="Demo Party", slug=DEMO_EVENT)
            booth = Booth.objects.for_organiser(organiser).filter(name="Demo booth").first()
            issued: services.IssuedToken | None = None
            why = ""
            if booth is None:
                issued = services.create_booth(organiser, name="Demo booth", event=event)
                booth = issued.booth
                why = "new booth"
            else:
                services.assign_event(booth, event)
                if booth.revoked_at is not None:
                    # The revoked token must stay dead: restore the booth with a new one.
                    booth.revoked_at = None
                    booth.save(update_fields=["revoked_at"])
                    issued = services.rotate_booth_token(booth)
                    why = "the booth was revoked; this new token replaces it"
                elif options["rotate"]:
                    issued = services.rotate_booth_token(booth)
                    why = "rotated: the old token and the kiosk paired with it stop working"
            pairing = services.issue_pairing_code(booth)
        site = settings.SITE_URL
        if issued is not None:
            token_lines = [
                f"Booth token:    {issued.secret}",
                f"                ({why}; shown once; send it as 'Authorization: Booth <token>')",
            ]
        else:
            token_lines = [
                "Booth token:    unchanged (it was shown when it was made); a paired kiosk "
                "stays paired.",
                "                For a new token: seed_demo --rotate (unpairs the kiosk), or "
                "pair a kiosk with the link below.",
            ]
        lines = [
            f"Organiser:      {organiser.name} ({organiser.slug})",
            f"Event:          {event.name} (slug {event.slug})",
            *token_lines,
            f"Booth page:     {site}{reverse('captures:booth')}#pair={pairing.secret}",
            "                (one-time pairing link, valid for "
            f"{settings.BOOTHSITE_PAIRING_TTL_SECONDS // 60} minutes)",
            f"Console:        {site}{reverse('events:login')}"
            f"  user {DEMO_USERNAME}  password {password}",
            f"Event gallery:  {event.gallery_url()}",
        ]
        self.stdout.write("\n".join(lines))
