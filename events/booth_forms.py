"""Console forms for booths: add a booth, and assign it to an event (validation only).

The views call ``events.services``; these forms only check what the organiser typed.
An event is chosen by its slug among the organiser's own events that are not archived;
the view has already answered 404 for a slug that names none of the organiser's events
(``events.access.access_event``), so another organiser's event looks like a missing one.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms

from events.models import Booth, Event, Organiser

#: The longest booth name the console accepts (the column holds 200).
MAX_NAME_LENGTH = 100


class EventChoiceField(forms.ChoiceField):
    """The event a booth serves, by slug: "" (no event) or one of ``events``.

    ``clean`` returns the chosen Event or None. An archived event is refused unless it
    is the one the booth already serves (``keep``), which is offered as "(archived)".
    """

    def __init__(self, *, events: list[Event], keep: Event | None = None, **kwargs: Any) -> None:
        self.events = {event.slug: event for event in events}
        choices = [("", "No event")]
        choices += [(event.slug, event.name) for event in events]
        if keep is not None and keep.slug not in self.events:
            self.events[keep.slug] = keep
            choices.append((keep.slug, f"{keep.name} (archived)"))
        kwargs.setdefault("label", "Event to serve")
        kwargs.setdefault(
            "help_text",
            "New sessions on this booth go to this event, with its branding, filters and "
            "gallery. A kiosk that is running shows the event when its page next loads.",
        )
        super().__init__(
            choices=choices,
            required=False,
            error_messages={
                "invalid_choice": "That event is archived: choose a current event, or none."
            },
            **kwargs,
        )

    def clean(self, value: Any) -> Event | None:
        slug = super().clean(value)
        return self.events[slug] if slug else None


def current_events(organiser: Organiser) -> list[Event]:
    """Return the organiser's events that are not archived, the latest first."""
    return list(
        Event.objects.for_organiser(organiser)
        .filter(archived_at__isnull=True)
        .order_by("-starts_at", "name")
    )


class AddBoothForm(forms.Form):
    """A new booth's name and event, plus a one-time ``submission`` id.

    ``submission`` (a UUID put in the form when it is shown) lets the view recognise the
    same form sent twice (a double click, a reload), so it makes one booth, not two.
    """

    name = forms.CharField(
        label="Name",
        max_length=MAX_NAME_LENGTH,
        help_text="How the booth appears in the console and the monitor, e.g. "
        "“Garden booth”. Guests do not see it.",
        error_messages={
            "required": "Give the booth a name.",
            "max_length": "Use at most %(limit_value)d characters (this name has %(show_value)d).",
        },
    )
    submission = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": "This form is incomplete: open the form again and resend it.",
            "invalid": "This form is incomplete: open the form again and resend it.",
        },
    )

    def __init__(self, *args: Any, organiser: Organiser, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("submission", uuid.uuid4())
        super().__init__(*args, **kwargs)
        self.organiser = organiser
        self.fields["event"] = EventChoiceField(events=current_events(organiser))
        self.order_fields(["name", "event", "submission"])

    def clean_name(self) -> str:
        """Refuse a name another of the organiser's booths (not revoked) already has."""
        name: str = self.cleaned_data["name"]
        taken = (
            Booth.objects.for_organiser(self.organiser).usable().filter(name__iexact=name).exists()
        )
        if taken:
            msg = f"You already have a booth called “{name}”: give this one another name."
            raise forms.ValidationError(msg)
        return name


class AssignEventForm(forms.Form):
    """The event a booth serves: one of the organiser's current events, or none."""

    def __init__(self, *args: Any, booth: Booth, **kwargs: Any) -> None:
        event = booth.current_event
        kwargs.setdefault("initial", {}).setdefault("event", event.slug if event else "")
        super().__init__(*args, **kwargs)
        self.fields["event"] = EventChoiceField(events=current_events(booth.organiser), keep=event)
