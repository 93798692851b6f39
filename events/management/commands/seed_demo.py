"""Create (idempotently) a demo organiser, owner, event and booth, and print how to use them.

Running it again (``bin/run`` does on every start) never unpairs a paired kiosk: the
booth keeps its token, and only a fresh one-time pairing link is issued (issuing a code
revokes nothing; a kiosk that redeems it gets a new token, which is pairing). The token
is printed on the run that creates the booth, and with ``--rotate``, which replaces it on
purpose. A revoked demo booth is restored with a new token: its old one stays dead.

``--organiser SLUG`` seeds a further demo organiser the same way (for trying tenant
isolation or the API with two organisers): the organiser SLUG, its owner (username SLUG,
a random password printed on the run that creates the user only; on later runs the
password is left as it is, reset it with ``manage.py changepassword SLUG``), an event
and a booth. Without it the demo organiser "demo" is seeded, as before.
"""

from __future__ import annotations

import secrets
from typing import Any

from allauth.account.models import EmailAddress  # type: ignore[import-untyped]
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
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
        "and print the URLs to try. --rotate gives the booth a new token. --organiser "
        "SLUG seeds a further demo organiser, owned by the user SLUG."
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
        parser.add_argument(
            "--organiser",
            metavar="SLUG",
            help="Seed a further demo organiser with this slug, owned by the user SLUG (a "
            "random password, printed when the user is created).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.EMBEDDED and not options["force"]:
            msg = (
                "seed_demo creates a login with a published password; use --force in "
                "production (DEBUG and BOOTHSITE_EMBEDDED off)."
            )
            raise CommandError(msg)
        slug = options["organiser"] or DEMO_ORGANISER
        if slug == DEMO_ORGANISER:
            name, username, new_password = "Demo Organiser", DEMO_USERNAME, DEMO_PASSWORD
        else:
            name, username = f"Demo {slug}", slug
            new_password = secrets.token_urlsafe(12)
        with transaction.atomic():
            organiser = Organiser.objects.filter(slug=slug).first()
            if organiser is None:
                organiser = Organiser(slug=slug, name=name)
                try:
                    organiser.full_clean()
                except ValidationError as error:
                    msg = f"Cannot create the organiser “{slug}”: {' '.join(error.messages)}"
                    raise CommandError(msg) from None
                organiser.save()
            user, created = get_user_model().objects.get_or_create(
                username=username, defaults={"email": f"{username}@example.com"}
            )
            # Set on creation only: a password changed since (changepassword demo, before a
            # party on a shared Wi-Fi) stays changed.
            if created:
                user.set_password(new_password)
                user.save(update_fields=["password"])
            if slug == DEMO_ORGANISER:
                published = user.check_password(DEMO_PASSWORD)
                password = DEMO_PASSWORD if published else "(the one you set)"
            else:
                password = new_password if created else "(set when the user was created)"
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
            f"  user {username}  password {password}",
            f"Event gallery:  {event.gallery_url()}",
        ]
        self.stdout.write("\n".join(lines))
