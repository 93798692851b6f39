"""The console's QR table card (issue 14.7): a printable page that sends guests to the gallery.

One card per page, A6 (105x148 mm) or A4 (210x297 mm), chosen with ``?size=a6|a4``
(default A6): the event's logo, its name, the gallery's QR code (segno SVG,
``captures.qr``) and a one-line instruction. The print CSS (``static/boothsite.css``,
"Table card") prints the card alone, edge to edge on one sheet of that size. Every
member may print it (``Perm.VIEW``); another organiser's event answers 404 like a
missing one. A switched-off, archived, revoked or expired gallery still gets its card,
with a warning on screen (not printed): its link would not open for guests.
"""

from __future__ import annotations

from typing import Any, Final

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from captures import qr
from events import access
from events.models import Event
from events.roles import Perm

#: The card sizes: ``?size=`` value -> label. The first is the default.
CARD_SIZES: Final = {"a6": "A6 (105 x 148 mm), one per table", "a4": "A4 (210 x 297 mm), a poster"}
#: The line under the QR code.
INSTRUCTION: Final = "Scan with your phone's camera to see and download the photos."


class TableCardForm(forms.Form):
    """The card's size (``?size=a6`` or ``a4``); anything else is refused by name."""

    size = forms.ChoiceField(
        label="Card size",
        choices=list(CARD_SIZES.items()),
        error_messages={
            "required": "Choose A6 or A4.",
            "invalid_choice": "Choose A6 or A4 (“%(value)s” is not a card size).",
        },
    )


def _gallery_warning(event: Event) -> str:
    """Return why guests scanning the card would not reach the gallery now, or ""."""
    if event.archived_at is not None:
        return "This event is archived: its gallery is closed, so the code would not open."
    if not event.gallery_enabled:
        return (
            "The gallery is turned off: guests who scan this card see “page not found” "
            "until you turn it on in the Gallery settings."
        )
    gone = access.gallery_link_state(event)
    if gone:
        return (
            f"This gallery link is {gone}: guests who scan this card are told it is gone. "
            "Make a new link in the Gallery settings, then print the card again."
        )
    return ""


@login_required
@require_GET
def event_table_card(request: HttpRequest, organiser_slug: str, event_slug: str) -> HttpResponse:
    """Show the event's printable QR table card at ``?size=a6`` (default) or ``a4``.

    An unknown size answers 400 with the page, the A6 card and the error by the field.
    Raises Http404 for an event the user may not see (``access.access_event``).
    """
    event = access.access_event(request.user, organiser_slug, event_slug, perm=Perm.VIEW)
    form = TableCardForm(request.GET if "size" in request.GET else {"size": next(iter(CARD_SIZES))})
    size = form.cleaned_data["size"] if form.is_valid() else next(iter(CARD_SIZES))
    gallery_url = event.gallery_url()
    context: dict[str, Any] = {
        "event": event,
        "organiser": event.organiser,
        "form": form,
        "size": size,
        "gallery_url": gallery_url,
        "qr_svg": qr.qr_svg(gallery_url),
        "instruction": INSTRUCTION,
        "warning": _gallery_warning(event),
    }
    return render(
        request, "captures/table_card.html", context, status=200 if form.is_valid() else 400
    )
