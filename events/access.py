"""Fetch and authorise tenant objects: the only way entry points get them.

Every function here answers "does not exist" and "not yours" the same way (Http404 or
None), so outsiders cannot probe which slugs, ids or tokens exist. A member who can see
an object but lacks the permission for the action gets PermissionDenied (403).
"""

from __future__ import annotations

import datetime as dt
import hmac
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from events import tokens
from events.exceptions import LinkGone
from events.models import Booth, Event, Membership, Organiser, RetiredLink
from events.roles import Perm

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


def _membership(user: AbstractBaseUser | AnonymousUser, organiser_slug: str) -> Membership:
    if not user.is_authenticated:
        raise Http404
    membership = (
        Membership.objects.select_related("organiser")
        .filter(user_id=user.pk, organiser__slug=organiser_slug)
        .first()
    )
    if membership is None:
        raise Http404
    return membership


def access_organiser(
    user: AbstractBaseUser | AnonymousUser, organiser_slug: str, *, perm: Perm
) -> Organiser:
    """Return the organiser if ``user`` is a member holding ``perm``.

    Raises Http404 when the organiser does not exist or the user is not a member, and
    PermissionDenied when the member's role lacks ``perm``.
    """
    membership = _membership(user, organiser_slug)
    if not membership.allows(perm):
        raise PermissionDenied
    return membership.organiser


def access_event(
    user: AbstractBaseUser | AnonymousUser, organiser_slug: str, event_slug: str, *, perm: Perm
) -> Event:
    """Return the event if ``user`` holds ``perm`` on its organiser.

    Raises Http404 both when the event does not exist and when the user is not a member
    of its organiser; members who lack ``perm`` get PermissionDenied.
    """
    membership = _membership(user, organiser_slug)
    event = (
        Event.objects.for_organiser(membership.organiser)
        .select_related("organiser")
        .filter(slug=event_slug)
        .first()
    )
    if event is None:
        raise Http404
    if not membership.allows(perm):
        raise PermissionDenied
    return event


def access_event_by_gallery_token(token: str) -> Event:
    """Return the event whose public gallery link carries ``token``.

    Raises Http404, one and the same, for a token that never worked, a gallery switched
    off and an archived event. Raises LinkGone (410) for a link that worked once: one
    replaced by a new link (``RetiredLink``), revoked, past ``gallery_expires_at``, or
    past the event's retention (``retention_cutoff``). Costs one query, two on a miss.
    """
    event = Event.objects.select_related("organiser").filter(gallery_token=token).first()
    if event is None:
        if token and is_retired_link(RetiredLink.Kind.GALLERY, token):
            raise LinkGone(GALLERY_GONE_MESSAGE)
        raise Http404
    if not event.gallery_enabled:
        raise Http404
    if gallery_link_state(event) is not None:
        raise LinkGone(GALLERY_GONE_MESSAGE)
    return event


def access_booth_by_token(token: str) -> Booth | None:
    """Return the usable booth whose API token is ``token``, or None.

    The token is looked up by its 8-character prefix and compared by hash in constant
    time. Unknown, malformed and revoked tokens all give None.
    """
    if not token.startswith(tokens.BOOTH_TOKEN_PREFIX):
        return None
    prefix = token[len(tokens.BOOTH_TOKEN_PREFIX) :][:8]
    if len(prefix) < 8:
        return None
    wanted = tokens.hash_secret(token)
    for booth in (
        Booth.objects.usable()
        .select_related("organiser", "current_event")
        .filter(token_prefix=prefix)
    ):
        if hmac.compare_digest(booth.token_hash, wanted):
            return booth
    return None


def access_booth_by_ticket(ticket: str) -> Booth | None:
    """Return the usable booth named by a valid WebSocket ticket, or None.

    An expired, forged or malformed ticket, a revoked booth and a ticket issued for an
    earlier API token of the booth (before a rotation or pairing) all give None.
    """
    named = tokens.read_socket_ticket(ticket)
    if named is None:
        return None
    booth = (
        Booth.objects.usable()
        .select_related("organiser", "current_event")
        .filter(public_id=named.booth_id)
        .first()
    )
    if booth is None:
        return None
    current = tokens.ticket_generation(booth.token_hash)
    return booth if hmac.compare_digest(current, named.generation) else None


def access_booth(
    user: AbstractBaseUser | AnonymousUser, organiser_slug: str, booth_id: str, *, perm: Perm
) -> Booth:
    """Return the organiser's booth with public id ``booth_id`` if ``user`` holds ``perm``.

    Http404 for a missing, malformed or foreign booth; PermissionDenied for a member
    without ``perm``.
    """
    membership = _membership(user, organiser_slug)
    booth = (
        Booth.objects.for_organiser(membership.organiser)
        .filter(public_id=public_id_or_404(booth_id))
        .first()
    )
    if booth is None:
        raise Http404
    if not membership.allows(perm):
        raise PermissionDenied
    return booth


@dataclass(frozen=True)
class ConsoleScope:
    """What the console's home page may show a user: their organisers' events and booths."""

    memberships: list[Membership]
    events: QuerySet[Event]
    booths: QuerySet[Booth]


def access_console(user: AbstractBaseUser | AnonymousUser) -> ConsoleScope:
    """Return the memberships, events and booths of every organiser ``user`` belongs to."""
    memberships = list(
        Membership.objects.filter(user_id=user.pk).select_related("organiser")
        if user.is_authenticated
        else []
    )
    organisers = [membership.organiser for membership in memberships]
    return ConsoleScope(
        memberships=memberships,
        events=Event.objects.filter(organiser__in=organisers).select_related("organiser"),
        booths=Booth.objects.filter(organiser__in=organisers).select_related(
            "organiser", "current_event"
        ),
    )


def public_id_or_404(value: object) -> uuid.UUID:
    """Parse a public id from a URL or a request body; Http404 when it is not a UUID.

    A malformed id answers like an unknown one, so ids cannot be probed by their shape.
    """
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Http404 from None


# ---- Guest links that worked once: 410, not 404 (issue 14.4) ----

#: What a gone gallery link says (RELIABILITY 40): the same for every event.
GALLERY_GONE_MESSAGE = "This gallery is no longer available."
#: What a gone share page or photo says: the same for every event.
SHARE_GONE_MESSAGE = "These photos are no longer available."


def retention_cutoff(event: Event) -> dt.datetime:
    """When the event's guest data expires: its end (or start) plus ``retention_days``.

    Past it the gallery, the share pages and the media answer 410, and the retention
    job (``messaging.services.purge_expired_personal_data``) erases phone numbers.
    """
    return (event.ends_at or event.starts_at) + dt.timedelta(days=event.retention_days)


def past_retention(event: Event, now: dt.datetime | None = None) -> bool:
    """Tell whether ``now`` (default: the current time) is at or past the event's cutoff."""
    return retention_cutoff(event) <= (now or timezone.now())


def gallery_link_state(event: Event, now: dt.datetime | None = None) -> str | None:
    """Return why the event's current gallery link is gone, or None while it works.

    One of ``RetiredLink.Reason``: "revoked" (``gallery_revoked_at`` set), "expired"
    (``gallery_expires_at`` reached) or "retention" (``past_retention``). Switched off
    and archived galleries are not "gone": they answer 404 (``access_event_by_gallery_token``).
    """
    now = now or timezone.now()
    if event.gallery_revoked_at is not None:
        return RetiredLink.Reason.REVOKED
    if event.gallery_expires_at is not None and event.gallery_expires_at <= now:
        return RetiredLink.Reason.EXPIRED
    if past_retention(event, now):
        return RetiredLink.Reason.RETENTION
    return None


def is_retired_link(kind: str, token: str) -> bool:
    """Tell whether ``token`` is a guest link of ``kind`` that worked once (one query).

    Only the token's SHA-256 is stored and looked up (``tokens.hash_secret``).
    """
    return RetiredLink.objects.filter(kind=kind, token_hash=tokens.hash_secret(token)).exists()
