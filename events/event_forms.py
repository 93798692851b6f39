"""Console forms for events: name, slug, dates and time zone; deleting an event.

The forms check the input's shape and read dates in the event's time zone; the rules
(a reserved or taken slug, an end before the start, an unknown zone) are the models',
checked again by ``events.services`` when it saves. ``add_service_errors`` puts a
service's ValidationError back on the form's fields.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any, cast

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.dateparse import parse_datetime

from events.converters import RESERVED_CONSOLE_WORDS
from events.models import Event, time_zone_names

#: The regions whose zones the time zone list offers (UTC comes first); other names
#: (``Etc/GMT+1``, ``US/Eastern``) stay valid for events that already use them.
TIME_ZONE_REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)
#: How ``<input type="datetime-local">`` sends a date and time, and how it is shown.
LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"

ChoiceGroups = list[tuple[str, str | list[tuple[str, str]]]]


def time_zone_choices(current: str = "") -> ChoiceGroups:
    """Return the time zone select's choices: UTC, then one group per region.

    Each zone is labelled by its name with spaces ("America/Argentina/Buenos Aires").
    ``current``, when it is outside the list (an older or alias name), comes first so an
    event that uses it can still be saved.
    """
    groups: dict[str, list[tuple[str, str]]] = {}
    for name in sorted(time_zone_names()):
        region, _, place = name.partition("/")
        if region in TIME_ZONE_REGIONS and place:
            groups.setdefault(region, []).append((name, name.replace("_", " ")))
    choices: ChoiceGroups = [("UTC", "UTC")]
    choices += [(region, groups[region]) for region in TIME_ZONE_REGIONS if region in groups]
    listed = {"UTC"} | {name for places in groups.values() for name, _ in places}
    if current and current not in listed:
        choices.insert(0, (current, current))
    return choices


def local_time(value: dt.datetime | None, tz: str) -> dt.datetime | None:
    """Return the aware ``value`` as a naive wall-clock time in the zone ``tz``."""
    if value is None:
        return None
    return value.astimezone(zoneinfo.ZoneInfo(tz)).replace(tzinfo=None)


def attach_zone(value: dt.datetime, tz: str) -> dt.datetime:
    """Return the wall-clock time ``value`` in the zone ``tz`` as an aware datetime.

    An aware ``value`` is returned as it is. Raises ValidationError for a time the
    zone skips (the clocks go forward) or has twice (they go back).
    """
    if value.tzinfo is not None:
        return value
    zone = zoneinfo.ZoneInfo(tz)
    aware = value.replace(tzinfo=zone)
    shown = f"{value:%d %b %Y %H:%M}"
    if aware.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) != value:
        msg = f"{shown} does not exist in {tz}: the clocks go forward then. Choose another time."
        raise ValidationError(msg, code="imaginary")
    if value.replace(tzinfo=zone, fold=1).utcoffset() != aware.utcoffset():
        msg = f"{shown} happens twice in {tz}: the clocks go back then. Choose another time."
        raise ValidationError(msg, code="ambiguous")
    return aware


class LocalDateTimeField(forms.DateTimeField):
    """A date and time as read on a clock at the event: cleaned to a naive datetime.

    Rendered as ``<input type="datetime-local">``; the form attaches the event's time
    zone (``attach_zone``), which may be chosen in the same form.
    """

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT_FORMAT)
    input_formats = [LOCAL_INPUT_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]

    def to_python(self, value: Any) -> dt.datetime | None:
        """Parse the input without Django's current time zone (the event has its own)."""
        if value in self.empty_values:
            return None
        if isinstance(value, dt.datetime):
            return value
        text = str(value).strip()
        try:
            parsed = parse_datetime(text)
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed
        for fmt in self.input_formats:
            try:
                return dt.datetime.strptime(text, str(fmt))  # noqa: DTZ007 (zone attached later)
            except ValueError:
                continue
        raise ValidationError("Enter a date and time, e.g. 2026-06-20T18:00.", code="invalid")


class EventForm(forms.Form):
    """An event's name, slug, dates and time zone: the console's create and edit form.

    ``event`` is the event being edited (None to create one): it gives the initial
    values, with its dates shown in its own time zone. ``cleaned_data`` then holds
    ``starts_at`` and ``ends_at`` as aware datetimes in the chosen zone, ready for
    ``events.services.create_console_event`` and ``update_event``.
    """

    name = forms.CharField(
        max_length=200,
        help_text="What guests and your team see, e.g. “Sam and Alex's wedding”.",
    )
    slug = forms.SlugField(
        max_length=60,
        required=False,
        label="Short name in web addresses",
        help_text="Lower-case letters, digits and hyphens, used in the console's addresses "
        "(…/console/your-organiser/summer-party/), not in the guests' links. Left empty, it "
        "is made from the name.",
        error_messages={"invalid": "Use only lower-case letters, digits and hyphens."},
    )
    starts_at = LocalDateTimeField(
        label="Starts",
        help_text="Date and time at the event, in its time zone.",
    )
    ends_at = LocalDateTimeField(
        label="Ends",
        required=False,
        help_text="Optional; after the start. Guests' phone numbers are kept for the "
        "retention days after it (or after the start when empty).",
    )
    timezone = forms.ChoiceField(
        label="Time zone",
        help_text="Where the event takes place: the dates above are read and shown in it.",
        error_messages={
            "invalid_choice": "Unknown time zone “%(value)s”: choose one from the list."
        },
    )

    def __init__(self, *args: Any, event: Event | None = None, **kwargs: Any) -> None:
        if event is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": event.name,
                    "slug": event.slug,
                    "starts_at": local_time(event.starts_at, event.timezone),
                    "ends_at": local_time(event.ends_at, event.timezone),
                    "timezone": event.timezone,
                },
            )
        else:
            kwargs.setdefault("initial", {"timezone": "UTC"})
        super().__init__(*args, **kwargs)
        current = event.timezone if event is not None else ""
        zones = cast(forms.ChoiceField, self.fields["timezone"])
        zones.choices = time_zone_choices(current)
        self.fields["name"].widget.attrs["autocomplete"] = "off"
        self.fields["slug"].widget.attrs.update(
            {"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}
        )

    def clean_slug(self) -> str:
        slug = str(self.cleaned_data.get("slug") or "").strip().lower()
        if slug in RESERVED_CONSOLE_WORDS:
            msg = f"“{slug}” names a console page; choose another slug."
            raise ValidationError(msg, code="reserved")
        return slug

    def clean(self) -> dict[str, Any]:
        """Read the dates in the chosen time zone; refuse an end before the start."""
        data = super().clean() or {}
        tz = data.get("timezone")
        if not tz:
            return data
        for name in ("starts_at", "ends_at"):
            value = data.get(name)
            if isinstance(value, dt.datetime):
                try:
                    data[name] = attach_zone(value, tz)
                except ValidationError as exc:
                    self.add_error(name, exc)
                    data.pop(name, None)
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts is not None and ends is not None and ends <= starts:
            self.add_error("ends_at", "The event must end after it starts.")
        return data


class DeleteEventForm(forms.Form):
    """Confirm deleting an event by typing its name."""

    confirm_name = forms.CharField(
        label="Type the event's name to confirm",
        max_length=200,
        help_text="This cannot be undone.",
    )

    def __init__(self, *args: Any, event: Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.event = event
        self.fields["confirm_name"].widget.attrs.update({"autocomplete": "off"})

    def clean_confirm_name(self) -> str:
        typed = " ".join(str(self.cleaned_data.get("confirm_name") or "").split())
        if typed != " ".join(self.event.name.split()):
            msg = f"That is not the event's name: type “{self.event.name}” to delete it."
            raise ValidationError(msg, code="mismatch")
        return typed


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's ValidationError on ``form``: by field where it has the field.

    Errors on fields the form does not show become form-wide errors naming the field.
    """
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.message_dict.items():
        if field in form.fields:
            form.add_error(field, errors)
        elif field == NON_FIELD_ERRORS:
            form.add_error(None, errors)
        else:
            label = field.replace("_", " ").capitalize()
            form.add_error(None, [f"{label}: {message}" for message in errors])


def make_read_only(form: forms.BaseForm) -> forms.BaseForm:
    """Disable every field of ``form`` (a viewer's view of the settings) and return it."""
    for field in form.fields.values():
        field.disabled = True
    return form
