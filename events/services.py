"""Writes and business rules for organisers, events and booths.

Entry points (views, API, commands) call these functions with already-authorised
objects; nothing here reads a request.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from events import booth_sockets, tokens
from events.exceptions import PairingFailed
from events.models import Booth, Event, Membership, Organiser
from events.roles import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

PAIRING_FAILED_MESSAGE = "This pairing code is invalid, expired or already used."


@dataclass(frozen=True)
class IssuedToken:
    """A secret shown once: the booth API token or a pairing code."""

    booth: Booth
    secret: str


def add_member(organiser: Organiser, user: AbstractBaseUser, role: Role) -> Membership:
    """Make ``user`` a member of ``organiser`` with ``role`` (updating an existing role)."""
    membership, _ = Membership.objects.update_or_create(
        organiser=organiser, user_id=user.pk, defaults={"role": role}
    )
    return membership


def create_event(organiser: Organiser, *, name: str, slug: str, **fields: object) -> Event:
    """Create an event for ``organiser``; ``fields`` are other Event fields."""
    event = Event(organiser=organiser, name=name, slug=slug, **fields)
    event.full_clean()
    event.save()
    return event


def set_gallery_passcode(event: Event, passcode: str) -> Event:
    """Set (or, with "", clear) the passcode guests type to open the event's gallery.

    Only a password hash is stored (``Event.set_gallery_passcode``). Raises
    ValidationError for a passcode outside 4 to 64 characters; nothing is saved then.
    """
    event.set_gallery_passcode(passcode)
    event.save(update_fields=["gallery_passcode_hash"])
    return event


def rotate_gallery_token(event: Event) -> str:
    """Give the event's gallery a new private link; the old link answers 404 at once."""
    event.gallery_token = tokens.link_token()
    event.save(update_fields=["gallery_token"])
    return event.gallery_token


def create_booth(organiser: Organiser, *, name: str, event: Event | None = None) -> IssuedToken:
    """Create a booth for ``organiser`` and return it with its API token (shown once).

    Raises ValueError if ``event`` belongs to another organiser.
    """
    if event is not None and event.organiser_id != organiser.pk:
        msg = "The event belongs to another organiser."
        raise ValueError(msg)
    booth = Booth(organiser=organiser, name=name, current_event=event)
    token = _set_token(booth)
    booth.save()
    return IssuedToken(booth=booth, secret=token)


def _set_token(booth: Booth) -> str:
    token, prefix, token_hash = tokens.new_booth_token()
    booth.token_prefix = prefix
    booth.token_hash = token_hash
    return token


def rotate_booth_token(booth: Booth) -> IssuedToken:
    """Replace the booth's API token; the old one stops working at once.

    So do socket tickets issued for the old token, and the booth's open sockets close
    (code 4003) after the commit (``booth_sockets.close_booth_sockets``).
    """
    token = _set_token(booth)
    booth.save(update_fields=["token_prefix", "token_hash"])
    booth_sockets.close_booth_sockets(booth)
    return IssuedToken(booth=booth, secret=token)


def assign_event(booth: Booth, event: Event | None) -> Booth:
    """Point the booth at ``event`` (or at none); ValueError for a foreign event."""
    if event is not None and event.organiser_id != booth.organiser_id:
        msg = "The event belongs to another organiser."
        raise ValueError(msg)
    booth.current_event = event
    booth.save(update_fields=["current_event"])
    return booth


def revoke_booth(booth: Booth) -> Booth:
    """Revoke the booth: its token, pairing code and WebSocket stop working.

    Its open sockets close (code 4003) after the commit.
    """
    booth.revoked_at = timezone.now()
    booth.pairing_code_hash = ""
    booth.pairing_expires_at = None
    booth.save(update_fields=["revoked_at", "pairing_code_hash", "pairing_expires_at"])
    booth_sockets.close_booth_sockets(booth)
    return booth


def issue_pairing_code(booth: Booth, *, ttl: dt.timedelta | None = None) -> IssuedToken:
    """Give the booth a one-time pairing code (shown once), replacing any earlier one.

    The code expires after ``ttl`` (default ``BOOTHSITE_PAIRING_TTL_SECONDS``). A kiosk
    that presents it gets a fresh API token (``pair_booth``).
    """
    ttl = ttl or dt.timedelta(seconds=settings.BOOTHSITE_PAIRING_TTL_SECONDS)
    code, code_hash = tokens.new_pairing_code()
    booth.pairing_code_hash = code_hash
    booth.pairing_expires_at = timezone.now() + ttl
    booth.save(update_fields=["pairing_code_hash", "pairing_expires_at"])
    return IssuedToken(booth=booth, secret=code)


def pair_booth(code: str) -> IssuedToken:
    """Redeem a one-time pairing code for a new booth API token.

    The code is consumed atomically (a second use fails) and the booth's previous API
    token stops working, with its socket tickets; its open sockets close (code 4003)
    after the commit. Raises PairingFailed, with one message for unknown, expired,
    used and revoked codes.
    """
    if not code.startswith(tokens.PAIRING_CODE_PREFIX):
        raise PairingFailed(PAIRING_FAILED_MESSAGE)
    code_hash = tokens.hash_secret(code)
    with transaction.atomic():
        booth = (
            Booth.objects.usable().select_for_update().filter(pairing_code_hash=code_hash).first()
        )
        if booth is None or not hmac.compare_digest(booth.pairing_code_hash, code_hash):
            raise PairingFailed(PAIRING_FAILED_MESSAGE)
        if booth.pairing_expires_at is None or booth.pairing_expires_at < timezone.now():
            raise PairingFailed(PAIRING_FAILED_MESSAGE)
        booth.pairing_code_hash = ""
        booth.pairing_expires_at = None
        token = _set_token(booth)
        booth.save(
            update_fields=["pairing_code_hash", "pairing_expires_at", "token_prefix", "token_hash"]
        )
        booth_sockets.close_booth_sockets(booth)
    return IssuedToken(booth=booth, secret=token)


def touch_booth(booth: Booth) -> None:
    """Record that the booth was seen now (at most once a minute, to spare writes)."""
    now = timezone.now()
    if booth.last_seen_at and now - booth.last_seen_at < dt.timedelta(minutes=1):
        return
    Booth.objects.filter(pk=booth.pk).update(last_seen_at=now)
    booth.last_seen_at = now
