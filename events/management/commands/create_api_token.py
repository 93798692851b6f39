"""Create an organiser API token (``bsk_…``) for a user, and print it once (issue 15.1).

``manage.py create_api_token USERNAME --organiser SLUG [--role manager] [--name NAME]``
prints the token alone on the first line of stdout (so a script can capture it with
``| head -1``), then a line saying what it is. Errors are CommandErrors (exit status 1,
message on stderr): unknown user, unknown organiser, not a member, a role above the
user's own.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from events import api_tokens
from events.models import Organiser
from events.roles import Role


class Command(BaseCommand):
    help = (
        "Create an API token acting for USERNAME in the organiser --organiser SLUG, with "
        "--role (default manager; never above the user's own role), and print it once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="The user the token acts for (a member).")
        parser.add_argument(
            "--organiser", required=True, help="The organiser's slug (from its console URL)."
        )
        parser.add_argument(
            "--role",
            default=Role.MANAGER.value,
            choices=[role.value for role in Role],
            help="The token's role (default manager), at most the user's own role.",
        )
        parser.add_argument(
            "--name", default="Command line", help="What the token is for (shown in the console)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        slug: str = options["organiser"]
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named “{username}”.")
        organiser = Organiser.objects.filter(slug=slug).first()
        if organiser is None:
            raise CommandError(f"No organiser with the slug “{slug}”.")
        try:
            token, secret = api_tokens.create_api_token(
                organiser, user, name=options["name"], role=options["role"]
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(secret)
        self.stdout.write(
            f"API token “{token.name}” for {username} in {organiser.slug}, role "
            f"{token.role}; shown once. Send it as 'Authorization: Bearer <token>'."
        )
