"""Writes and business rules for organisers, events and booths.

Entry points (views, API, commands) call these functions with already-authorised
objects; nothing here reads a request.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING

from allauth.account.models import EmailAddress  # type: ignore[import-untyped]
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, models, router, transaction
from django.db.models.deletion import Collector, ProtectedError, RestrictedError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from events import booth_sockets, gallery_sockets, tokens
from events.access import gallery_link_state
from events.converters import RESERVED_CONSOLE_WORDS
from events.exceptions import InvitationGone, LastOwner, PairingFailed
from events.models import (
    RESERVED_ORGANISER_SLUGS,
    Booth,
    Event,
    Invitation,
    Membership,
    Organiser,
    RetiredLink,
)
from events.roles import ROLE_PERMS, Role

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
    """Give the event's gallery a new private link and return its token.

    The old link answers 410 from then on: its SHA-256 is kept as a ``RetiredLink``
    (reason "rotated", or "revoked"/"expired" when it had already ended). The new link
    clears a revocation and an expiry already past (a future expiry stays). Open
    slideshows of the old link close after the commit (``gallery_sockets``).
    """
    now = timezone.now()
    with transaction.atomic():
        locked = Event.objects.select_for_update().get(pk=event.pk)
        reason = gallery_link_state(locked, now)
        if reason is None or reason == RetiredLink.Reason.RETENTION:
            reason = RetiredLink.Reason.ROTATED
        RetiredLink.objects.get_or_create(
            token_hash=tokens.hash_secret(locked.gallery_token),
            defaults={"event": locked, "kind": RetiredLink.Kind.GALLERY, "reason": reason},
        )
        event.gallery_token = tokens.link_token()
        event.gallery_revoked_at = None
        if locked.gallery_expires_at is not None and locked.gallery_expires_at <= now:
            event.gallery_expires_at = None
        else:
            event.gallery_expires_at = locked.gallery_expires_at
        event.save(update_fields=["gallery_token", "gallery_revoked_at", "gallery_expires_at"])
        gallery_sockets.announce_gallery_changed(event)
    return event.gallery_token


def revoke_gallery_link(event: Event) -> Event:
    """Close the event's gallery link now: it answers 410 until ``rotate_gallery_token``.

    Revoking a revoked link changes nothing (the first time is kept). Open slideshows
    close after the commit (``gallery_sockets``).
    """
    if event.gallery_revoked_at is None:
        event.gallery_revoked_at = timezone.now()
        event.save(update_fields=["gallery_revoked_at"])
        gallery_sockets.announce_gallery_changed(event)
    return event


GALLERY_EXPIRY_PAST_MESSAGE = "Choose a time in the future, or leave it empty for no expiry."


def set_gallery_expiry(event: Event, expires_at: dt.datetime | None) -> Event:
    """Set when the gallery link stops working (an aware datetime), or None for never.

    Raises ValidationError on ``gallery_expires_at`` for a time not in the future,
    unless it is the one already set (saving other settings keeps a past expiry).
    Open slideshows learn the new expiry after the commit (``gallery_sockets``).
    """
    if expires_at == event.gallery_expires_at:
        return event
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"gallery_expires_at": GALLERY_EXPIRY_PAST_MESSAGE})
    event.gallery_expires_at = expires_at
    event.save(update_fields=["gallery_expires_at"])
    gallery_sockets.announce_gallery_changed(event)
    return event


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


def add_booth(organiser: Organiser, *, name: str, event: Event | None = None) -> Booth:
    """Create a booth for ``organiser`` with no API token: the console's "Add a booth".

    Nothing can call the booth API as this booth until a kiosk redeems a pairing code
    (``issue_pairing_code``, then ``pair_booth``), so its state reads "not paired"
    until then. ``create_booth`` instead returns a token at once (seed and tests).
    Raises ValueError if ``event`` belongs to another organiser.
    """
    if event is not None and event.organiser_id != organiser.pk:
        msg = "The event belongs to another organiser."
        raise ValueError(msg)
    booth = Booth(organiser=organiser, name=name, current_event=event)
    booth.full_clean()
    booth.save()
    return booth


# --- Events in the console: create, edit, gallery settings, archive, delete (issue 13.3) ---

SLUG_TAKEN_MESSAGE = "Another event of this organiser already uses this slug."


def unique_event_slug(organiser: Organiser, name: str, *, exclude: Event | None = None) -> str:
    """Return a free slug for an event of ``organiser`` called ``name``.

    The name is slugified ("Summer Party!" gives "summer-party", accents dropped, at most
    50 characters; "event" when nothing is left), then "-2", "-3"… are added while the
    slug is taken by another event of the organiser (``exclude`` is the event being
    renamed) or is one of ``RESERVED_CONSOLE_WORDS``.
    """
    base = slugify(name)[:50].strip("-_") or "event"
    others = Event.objects.for_organiser(organiser).filter(slug__startswith=base)
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    taken = set(others.values_list("slug", flat=True)) | RESERVED_CONSOLE_WORDS
    slug, number = base, 1
    while slug in taken:
        number += 1
        slug = f"{base}-{number}"
    return slug


def _save_checked(event: Event, changes: dict[str, object], *, adding: bool = False) -> Event:
    """Apply ``changes`` to ``event``, run the models' checks and save.

    On a ValidationError (or a slug taken meanwhile: the unique constraint's
    IntegrityError, turned into a ValidationError on ``slug``) the instance gets its
    earlier values back and nothing is saved.
    """
    before = {name: getattr(event, name) for name in changes}
    for name, value in changes.items():
        setattr(event, name, value)
    try:
        others = Event.objects.for_organiser(event.organiser).exclude(pk=event.pk)
        if "slug" in changes and others.filter(slug=event.slug).exists():
            raise ValidationError({"slug": SLUG_TAKEN_MESSAGE})
        event.full_clean()
        with transaction.atomic():
            if adding:
                event.save()
            else:
                event.save(update_fields=list(changes))
    except IntegrityError:
        for name, value in before.items():
            setattr(event, name, value)
        raise ValidationError({"slug": SLUG_TAKEN_MESSAGE}) from None
    except ValidationError:
        for name, value in before.items():
            setattr(event, name, value)
        raise
    return event


def create_console_event(
    organiser: Organiser,
    *,
    name: str,
    slug: str = "",
    starts_at: dt.datetime,
    ends_at: dt.datetime | None = None,
    tz: str = "UTC",
) -> Event:
    """Create an event from the console with the defaults a new event gets.

    ``starts_at`` and ``ends_at`` are aware datetimes (the form reads them in ``tz``,
    the event's IANA time zone name). An empty ``slug`` is made from the name
    (``unique_event_slug``). The event renders the seed's filters and strip, and may
    text numbers of the organiser's country (``Organiser.country``; "GB" where the
    organiser has none). Raises ValidationError by field, for a reserved or taken slug,
    an end before the start or an unknown time zone; nothing is saved then.
    """
    country = str(getattr(organiser, "country", "") or "GB").upper()
    event = Event(organiser=organiser, sms_allowed_countries=[country])
    fields: dict[str, object] = {
        "name": name.strip(),
        "slug": slug or unique_event_slug(organiser, name),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "timezone": tz,
    }
    return _save_checked(event, fields, adding=True)


def update_event(
    event: Event,
    *,
    name: str,
    slug: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime | None,
    tz: str,
) -> Event:
    """Change an event's name, slug, dates and time zone (``tz``, an IANA name).

    An empty ``slug`` is made from the name. The console's URLs follow the slug; the
    gallery and guest links (secret tokens) do not change. Raises ValidationError by
    field as ``create_console_event`` does; the event is left as it was then.
    """
    fields: dict[str, object] = {
        "name": name.strip(),
        "slug": slug or unique_event_slug(event.organiser, name, exclude=event),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "timezone": tz,
    }
    return _save_checked(event, fields)


def update_gallery_settings(
    event: Event,
    *,
    visibility: str,
    passcode: str | None = None,
    retention_days: int,
    retention_purges_photos: bool,
    guest_download: bool | None = None,
) -> Event:
    """Set who may open the event's gallery and how long guests' data is kept.

    ``visibility`` is one of ``Event.GalleryVisibility``. ``passcode`` None keeps the
    current passcode, "" removes it, anything else replaces it (stored only as a
    password hash, ``Event.set_gallery_passcode``). Raises ValidationError on
    ``gallery_passcode`` for a passcode outside 4 to 64 characters and on
    ``gallery_visibility`` for a passcode gallery left without a passcode; the event
    is left as it was then. ``guest_download`` (None: unchanged) lets guests download
    the whole event as one ZIP from the gallery (``/g/<token>/photos.zip``).
    """
    old_hash = event.gallery_passcode_hash
    changes: dict[str, object] = {
        "gallery_visibility": visibility,
        "retention_days": retention_days,
        "retention_purges_photos": retention_purges_photos,
    }
    if guest_download is not None:
        changes["guest_download"] = guest_download
    if passcode is not None:
        event.set_gallery_passcode(passcode)
        changes["gallery_passcode_hash"] = event.gallery_passcode_hash
        event.gallery_passcode_hash = old_hash
    return _save_checked(event, changes)


def archive_event(event: Event) -> Event:
    """Archive the event (again harmlessly): it keeps its photos but stops taking part.

    Its booths open no new session (``captures.services.start_session`` answers 409),
    its gallery and guest pages answer 404 and its photos can no longer be sent by SMS,
    until ``unarchive_event``.
    """
    if event.archived_at is None:
        event.archived_at = timezone.now()
        event.save(update_fields=["archived_at"])
    return event


def unarchive_event(event: Event) -> Event:
    """Bring an archived event back: booths, gallery, guest pages and SMS work again."""
    if event.archived_at is not None:
        event.archived_at = None
        event.save(update_fields=["archived_at"])
    return event


@dataclass(frozen=True)
class DeletionSummary:
    """What deleting an event removes.

    ``counts`` maps each model's label ("captures.Capture") to the rows deleted with the
    event, the event included; ``rows`` gives the same but the event as (label, words,
    count) triples, the words being the model's ("booth sessions"), for pages; ``files`` is the
    number of stored files (photos, variants, strips, thumbnails, the logo) deleted
    after the commit; ``booths`` is the number of booths that served the event and will
    serve none.
    """

    counts: dict[str, int]
    rows: tuple[tuple[str, str, int], ...]
    files: int
    booths: int

    def count(self, label: str) -> int:
        """Return how many rows of the model ``label`` ("captures.BoothSession") go."""
        return self.counts.get(label, 0)


def _collect(event: Event) -> tuple[Collector, DeletionSummary]:
    collector = Collector(using=router.db_for_write(Event))
    try:
        collector.collect([event])
    except (ProtectedError, RestrictedError) as exc:
        msg = "This event cannot be deleted: other records still need it."
        raise ValidationError(msg) from exc
    counts: dict[type[models.Model], int] = {}
    files = 0
    for model, instances in collector.data.items():
        counts[model] = counts.get(model, 0) + len(instances)
        file_fields = [f for f in model._meta.concrete_fields if isinstance(f, models.FileField)]
        files += sum(1 for row in instances for f in file_fields if getattr(row, f.attname))
    for queryset in collector.fast_deletes:
        counts[queryset.model] = counts.get(queryset.model, 0) + queryset.count()
    summary = DeletionSummary(
        counts={model._meta.label: n for model, n in counts.items()},
        rows=tuple(
            (
                model._meta.label,
                str(model._meta.verbose_name if n == 1 else model._meta.verbose_name_plural),
                n,
            )
            for model, n in counts.items()
            if n and model is not Event
        ),
        files=files,
        booths=event.booths.count(),
    )
    return collector, summary


def event_deletion_summary(event: Event) -> DeletionSummary:
    """Return what ``delete_event`` would remove now (rows by kind, files, booths).

    Raises ValidationError when a protected record would stop the delete.
    """
    return _collect(event)[1]


def delete_event(event: Event) -> DeletionSummary:
    """Delete the event with everything it holds, and its stored files after the commit.

    Sessions, captures, variants, strips, SMS records and pauses go with it (their
    foreign keys cascade); booths that served it serve no event. The event's row is
    locked first, so no session or capture is added to it meanwhile. Files are deleted
    once the transaction commits (``captures.signals``); a rolled-back delete keeps
    them. Returns what was deleted; raises ValidationError when a protected record
    stops the delete (nothing is deleted then).
    """
    with transaction.atomic():
        locked = Event.objects.select_for_update().get(pk=event.pk)
        collector, summary = _collect(locked)
        collector.delete()
    return summary


# --- Accounts and team: organisers, members, invitations (issue 13.1, 13.2) ---

#: Invitation link tokens: a type prefix and ``BOOTHSITE_TOKEN_BYTES`` random bytes.
INVITATION_TOKEN_PREFIX = "inv_"  # noqa: S105  (a type prefix, not a secret)
INVITATION_GONE_MESSAGE = (
    "This invitation has already been used, was cancelled, or has expired. Ask the "
    "organiser's owner to invite you again."
)
LAST_OWNER_MESSAGE = "An organiser needs at least one owner: make another member an owner first."


@dataclass(frozen=True)
class IssuedInvitation:
    """An invitation and its link token (shown once, in the email; only a hash is kept)."""

    invitation: Invitation
    token: str


def unique_organiser_slug(name: str) -> str:
    """Return a free organiser slug for ``name``.

    The name is slugified ("Bright Booths Ltd." gives "bright-booths-ltd", at most 50
    characters; "organiser" when nothing is left), then "-2", "-3"… are added while the
    slug is taken or names a console page (``RESERVED_ORGANISER_SLUGS``).
    """
    base = slugify(name)[:50].strip("-_") or "organiser"
    taken = set(
        Organiser.objects.filter(slug__startswith=base).values_list("slug", flat=True)
    ) | set(RESERVED_ORGANISER_SLUGS)
    slug, number = base, 1
    while slug in taken:
        number += 1
        slug = f"{base}-{number}"
    return slug


def create_organiser(owner: AbstractBaseUser, *, name: str, country: str) -> Organiser:
    """Create an organiser called ``name`` in ``country``, with ``owner`` as its owner.

    The slug comes from the name (``unique_organiser_slug``); a slug taken by a
    concurrent sign-up meanwhile is retried with the next number. ``country`` is an ISO
    3166 alpha-2 code (upper-cased here). Raises ValidationError for a blank or too long
    name or a malformed country; nothing is saved then.
    """
    name = " ".join(name.split())
    for _attempt in range(5):
        organiser = Organiser(name=name, slug=unique_organiser_slug(name), country=country.upper())
        organiser.full_clean()
        try:
            with transaction.atomic():
                organiser.save()
                Membership.objects.create(organiser=organiser, user_id=owner.pk, role=Role.OWNER)
        except IntegrityError:
            continue
        return organiser
    msg = "Could not find a free address for this organiser; try another name."
    raise ValidationError({"name": msg})


def _new_invitation_token() -> tuple[str, str]:
    token = f"{INVITATION_TOKEN_PREFIX}{tokens.link_token()}"
    return token, tokens.hash_secret(token)


def _invitation_expiry() -> dt.datetime:
    return timezone.now() + dt.timedelta(days=settings.BOOTHSITE_INVITATION_DAYS)


def invite_member(
    organiser: Organiser, *, email: str, role: Role, invited_by: AbstractBaseUser | None
) -> IssuedInvitation:
    """Invite ``email`` to join ``organiser`` with ``role``; return it with its link token.

    The address is stripped and lower-cased. A pending invitation to the same address is
    renewed instead (new role, token and expiry; its old link stops working). Expires
    after ``BOOTHSITE_INVITATION_DAYS`` (7). Raises ValidationError on ``email`` when a
    member already signs in with that address, or when it is not an email address. The
    caller sends the email (``send_invitation``).
    """
    email = email.strip().lower()
    members = Membership.objects.for_organiser(organiser).values("user_id")
    if EmailAddress.objects.filter(email__iexact=email, user_id__in=members).exists():
        raise ValidationError({"email": f"{email} is already a member of {organiser.name}."})
    token, token_hash = _new_invitation_token()
    with transaction.atomic():
        invitation = (
            Invitation.objects.for_organiser(organiser)
            .pending()
            .select_for_update()
            .filter(email=email)
            .first()
        ) or Invitation(organiser=organiser, email=email)
        invitation.role = role
        invitation.token_hash = token_hash
        invitation.invited_by_id = invited_by.pk if invited_by is not None else None
        invitation.expires_at = _invitation_expiry()
        invitation.full_clean()
        invitation.save()
    return IssuedInvitation(invitation=invitation, token=token)


def renew_invitation(invitation: Invitation) -> IssuedInvitation:
    """Give a pending invitation a new link token and expiry; the old link stops working.

    Raises InvitationGone if it was accepted or cancelled meanwhile.
    """
    token, token_hash = _new_invitation_token()
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_at is not None or locked.cancelled_at is not None:
            raise InvitationGone(INVITATION_GONE_MESSAGE)
        locked.token_hash = token_hash
        locked.expires_at = _invitation_expiry()
        locked.save(update_fields=["token_hash", "expires_at"])
    return IssuedInvitation(invitation=locked, token=token)


def cancel_invitation(invitation: Invitation) -> Invitation:
    """Cancel a pending invitation: its link answers 410 from now on (idempotent)."""
    updated = Invitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, cancelled_at__isnull=True
    ).update(cancelled_at=timezone.now())
    invitation.refresh_from_db()
    if not updated and invitation.accepted_at is not None:
        raise InvitationGone(INVITATION_GONE_MESSAGE)
    return invitation


def invitation_url(token: str) -> str:
    """Return the absolute link of an invitation token (``SITE_URL`` + accept path)."""
    return f"{settings.SITE_URL}{reverse('events:accept-invite', args=[token])}"


def send_invitation(issued: IssuedInvitation) -> None:
    """Email the invitation's link to its address, through Django's email backend.

    The text is ``templates/events/email/invitation_subject.txt`` and ``…_message.txt``.
    Raises what the backend raises (``smtplib.SMTPException``, ``OSError``) when the
    mail server cannot take it; the invitation stays pending and can be sent again.
    """
    invitation = issued.invitation
    context = {
        "invitation": invitation,
        "organiser": invitation.organiser,
        "role": invitation.get_role_display(),
        "invited_by": invitation.invited_by,
        "url": invitation_url(issued.token),
        "days": settings.BOOTHSITE_INVITATION_DAYS,
    }
    subject = render_to_string("events/email/invitation_subject.txt", context)
    body = render_to_string("events/email/invitation_message.txt", context)
    send_mail(
        settings.EMAIL_SUBJECT_PREFIX + " ".join(subject.split()),
        body,
        settings.DEFAULT_FROM_EMAIL,
        [invitation.email],
    )


def find_invitation(token: str) -> Invitation | None:
    """Return the invitation whose link carries ``token`` (any state), or None.

    Looked up by the token's SHA-256 (only the hash is stored); a malformed or unknown
    token gives None.
    """
    if not token.startswith(INVITATION_TOKEN_PREFIX) or len(token) > 100:
        return None
    wanted = tokens.hash_secret(token)
    invitation = (
        Invitation.objects.select_related("organiser", "invited_by")
        .filter(token_hash=wanted)
        .first()
    )
    if invitation is None or not hmac.compare_digest(invitation.token_hash, wanted):
        return None
    return invitation


def accept_invitation(invitation: Invitation, user: AbstractBaseUser) -> Membership:
    """Use the invitation once: make ``user`` a member of its organiser with its role.

    Atomic: the invitation is locked, checked (not accepted, cancelled or expired) and
    marked accepted by ``user``. A user who is already a member keeps their membership,
    raised to the invitation's role if that role grants more (never lowered). Raises
    InvitationGone (410) if the link can no longer be used.
    """
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not locked.is_usable:
            raise InvitationGone(INVITATION_GONE_MESSAGE)
        locked.accepted_at = timezone.now()
        locked.accepted_by_id = user.pk
        locked.save(update_fields=["accepted_at", "accepted_by"])
        membership, created = Membership.objects.get_or_create(
            organiser_id=locked.organiser_id, user_id=user.pk, defaults={"role": locked.role}
        )
        if not created and len(ROLE_PERMS[locked.role]) > len(ROLE_PERMS[membership.role]):
            membership.role = locked.role
            membership.save(update_fields=["role"])
    invitation.accepted_at = locked.accepted_at
    return membership


def _lock_owners(organiser_id: int) -> set[int]:
    """Lock the organiser's owner memberships; return their primary keys."""
    return set(
        Membership.objects.select_for_update()
        .filter(organiser_id=organiser_id, role=Role.OWNER)
        .values_list("pk", flat=True)
    )


def change_role(membership: Membership, role: Role) -> Membership:
    """Give the member ``role``.

    Raises LastOwner (409) when this would demote the organiser's only owner.
    """
    with transaction.atomic():
        owners = _lock_owners(membership.organiser_id)
        if role != Role.OWNER and owners == {membership.pk}:
            raise LastOwner(LAST_OWNER_MESSAGE)
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


def remove_member(membership: Membership) -> None:
    """Remove the member from the organiser (a member leaving, or removed by an owner).

    Their sessions stay signed in but reach none of the organiser's pages. Raises
    LastOwner (409) when this is the organiser's only owner.
    """
    with transaction.atomic():
        owners = _lock_owners(membership.organiser_id)
        if owners == {membership.pk}:
            raise LastOwner(LAST_OWNER_MESSAGE)
        Membership.objects.filter(pk=membership.pk).delete()


def rename_booth(booth: Booth, name: str) -> Booth:
    """Rename ``booth`` to ``name`` (stripped); return the booth, saved.

    The model's checks run (``full_clean``): a blank or too long name raises
    ValidationError and leaves the booth unchanged, in memory and in the database.
    Only the ``name`` column is written.
    """
    before, booth.name = booth.name, name.strip()
    try:
        booth.full_clean()
    except ValidationError:
        booth.name = before
        raise
    booth.save(update_fields=["name"])
    return booth
