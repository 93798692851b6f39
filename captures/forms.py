"""Console forms for the kiosk and an event's rendering: branding, camera, capture, gallery."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.forms.renderers import BaseRenderer
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from captures import imaging
from events.event_forms import LocalDateTimeField, attach_zone, local_time
from events.models import GALLERY_PASSCODE_LENGTH, Booth, Event
from events.services import GALLERY_EXPIRY_PAST_MESSAGE


class BrandingForm(forms.ModelForm[Event]):
    """Welcome text, brand colour and logo of an event (validation only; no ``save()``)."""

    logo = forms.FileField(
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg"}),
        help_text=f"PNG (transparency kept) or JPEG, up to {imaging.MAX_UPLOAD_BYTES >> 20} MB.",
    )
    remove_logo = forms.BooleanField(required=False, label="Remove the logo")

    class Meta:
        model = Event
        fields = ["welcome_text", "brand_color"]
        widgets = {"brand_color": forms.TextInput(attrs={"type": "color"})}
        labels = {"brand_color": "Brand colour"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance.logo:
            del self.fields["remove_logo"]

    def clean_logo(self) -> UploadedFile | None:
        upload: UploadedFile | None = self.cleaned_data.get("logo")
        if upload is not None and (upload.size or 0) > imaging.MAX_UPLOAD_BYTES:
            msg = f"The logo is too large (max {imaging.MAX_UPLOAD_BYTES >> 20} MB)."
            raise forms.ValidationError(msg)
        return upload


class CameraForm(forms.ModelForm[Booth]):
    """A booth's camera settings (validation only; the view calls the service)."""

    camera_width = forms.IntegerField(label="Width (px)", min_value=160, max_value=3840)
    camera_height = forms.IntegerField(label="Height (px)", min_value=120, max_value=2160)
    camera_mirror = forms.BooleanField(required=False, label="Mirror the preview")
    camera_brightness = forms.FloatField(required=False, label="Brightness")
    camera_contrast = forms.FloatField(required=False, label="Contrast")
    camera_zoom = forms.FloatField(required=False, label="Zoom", min_value=0.0)

    class Meta:
        model = Booth
        fields = list(Booth.CAMERA_FIELDS)


class RangeInput(forms.NumberInput):
    """A slider (``<input type="range">``) followed by an ``<output>`` showing its value.

    ``static/console-events.js`` keeps the output in step while the slider moves.
    """

    input_type = "range"

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        html = super().render(name, value, attrs, renderer)
        field_id = (attrs or {}).get("id") or self.attrs.get("id") or f"id_{name}"
        shown = self.format_value(value)
        return format_html(
            '{}<output class="range-value" for="{}" id="{}_value">{}</output>',
            html,
            field_id,
            field_id,
            shown if shown is not None else "",
        )


def _range(step: str, low: float, high: float) -> RangeInput:
    return RangeInput(attrs={"step": step, "min": low, "max": high})


class CaptureSettingsForm(forms.Form):
    """How an event's booths snap and what its photos and strips are rendered with.

    Filters and strip layouts are checkboxes from the registry (``imaging.FILTERS``,
    ``imaging.STRIP_LAYOUTS``); an unknown name is refused by name. ``event`` gives the
    initial values. The view saves through ``captures.services.update_capture_settings``,
    which checks the names and ranges again.
    """

    auto_snap = forms.BooleanField(
        required=False,
        label="Snap on a smile",
        help_text="Booths snap by themselves when the guest smiles (a short 3-2-1 first); "
        "otherwise the guest presses Snap.",
    )
    smile_threshold = forms.FloatField(
        min_value=0.0,
        max_value=1.0,
        widget=_range("0.05", 0.0, 1.0),
        label="Smile threshold",
        help_text="How broad a smile snaps the photo: 0 snaps any face, 1 only the "
        "broadest smiles. The seed used 0.5.",
    )
    countdown_seconds = forms.IntegerField(
        min_value=0,
        max_value=30,
        label="Countdown (seconds)",
        help_text="From pressing Snap to the photo, 0 to 30 seconds. The seed used 5.",
    )
    captures_per_session = forms.IntegerField(
        min_value=1,
        max_value=4,
        label="Snaps per session",
        help_text="Photos each guest session takes, 1 to 4 (a strip holds up to 4).",
    )
    filters = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(name, f.label) for name, f in imaging.FILTERS.items()],
        help_text="Each photo is also rendered with these filters. None ticked: the "
        "original photos only.",
        error_messages={"invalid_choice": "Unknown filter “%(value)s”: choose from the list."},
    )
    strip_layouts = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        choices=[(name, layout.label) for name, layout in imaging.STRIP_LAYOUTS.items()],
        label="Strip layouts",
        help_text="Each session ends with one strip per layout ticked.",
        error_messages={
            "required": "Choose at least one strip layout.",
            "invalid_choice": "Unknown strip layout “%(value)s”: choose from the list.",
        },
    )
    strip_filter = forms.ChoiceField(
        required=False,
        choices=[("", "None: the original photos")]
        + [(name, f.label) for name, f in imaging.FILTERS.items()],
        label="Strip filter",
        help_text="The filter the strips are printed with.",
        error_messages={"invalid_choice": "Unknown filter “%(value)s”: choose from the list."},
    )
    brightness = forms.FloatField(
        min_value=0.0,
        max_value=2.0,
        widget=_range("0.05", 0.0, 2.0),
        help_text="Applied to every photo before the filters: 1 leaves it as taken, "
        "below 1 darker, above 1 brighter (0 to 2).",
    )
    contrast = forms.FloatField(
        min_value=0.0,
        max_value=2.0,
        widget=_range("0.05", 0.0, 2.0),
        help_text="1 leaves the photo as taken; 0 is flat grey, 2 doubles the contrast.",
    )
    saturation = forms.FloatField(
        min_value=0.0,
        max_value=2.0,
        widget=_range("0.05", 0.0, 2.0),
        help_text="1 leaves the colours as taken; 0 is black and white, 2 doubles them.",
    )

    def __init__(self, *args: Any, event: Event, **kwargs: Any) -> None:
        initial = {
            "auto_snap": event.auto_snap,
            "smile_threshold": event.smile_threshold,
            "countdown_seconds": event.countdown_seconds,
            "captures_per_session": event.captures_per_session,
            "filters": [name for name in event.filters or [] if name in imaging.FILTERS],
            "strip_layouts": [
                name for name in event.strip_layouts or [] if name in imaging.STRIP_LAYOUTS
            ],
            "strip_filter": event.strip_filter if event.strip_filter in imaging.FILTERS else "",
            "brightness": event.brightness,
            "contrast": event.contrast,
            "saturation": event.saturation,
        }
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)


class GallerySettingsForm(forms.Form):
    """Who may open an event's gallery, its passcode, and how long guests' data is kept.

    The passcode is write-only: empty keeps the current one, "Remove the passcode"
    clears it (only offered when one is set). ``passcode()`` gives the service's
    argument: None to keep, "" to remove, or the new passcode.
    """

    gallery_visibility = forms.ChoiceField(
        choices=Event.GalleryVisibility.choices,
        widget=forms.RadioSelect,
        label="Who can open the gallery",
        help_text="The gallery link is secret either way; a passcode adds a word guests "
        "type once. Off closes the gallery (the guests' own pages stay).",
    )
    gallery_passcode = forms.CharField(
        required=False,
        strip=True,
        min_length=GALLERY_PASSCODE_LENGTH[0],
        max_length=GALLERY_PASSCODE_LENGTH[1],
        label="New passcode",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=f"{GALLERY_PASSCODE_LENGTH[0]} to {GALLERY_PASSCODE_LENGTH[1]} characters "
        "guests type to open a passcode gallery. Stored hashed, never shown; leave empty to "
        "keep the current one.",
    )
    clear_gallery_passcode = forms.BooleanField(required=False, label="Remove the passcode")
    guest_download = forms.BooleanField(
        required=False,
        label="Guests may download everything",
        help_text='Adds a "Download all photos (ZIP)" link to the gallery: every '
        "visible photo, filtered copy and strip of the event in one file.",
    )
    gallery_expires_at = LocalDateTimeField(
        required=False,
        label="The gallery link ends at",
        help_text="Date and time at the event (its time zone); after it the link says it "
        "has ended. Leave empty to keep it until the retention ends.",
    )
    retention_days = forms.IntegerField(
        min_value=1,
        max_value=3650,
        label="Retention (days)",
        help_text="Days after the event ends (or starts, with no end) before guests' phone "
        "numbers are erased and the gallery, guests' pages and photos close, 1 to 3650.",
    )
    retention_purges_photos = forms.BooleanField(
        required=False,
        label="Also delete the photos then",
        help_text="Deletes the event's photos, variants and strips with their files when "
        "the retention period ends.",
    )

    def __init__(self, *args: Any, event: Event, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "gallery_visibility": event.gallery_visibility,
                "guest_download": event.guest_download,
                "retention_days": event.retention_days,
                "retention_purges_photos": event.retention_purges_photos,
                "gallery_expires_at": local_time(event.gallery_expires_at, event.timezone),
            },
        )
        super().__init__(*args, **kwargs)
        self.event = event
        if not event.gallery_passcode_hash:
            del self.fields["clear_gallery_passcode"]

    def clean_gallery_expires_at(self) -> dt.datetime | None:
        """Read the expiry in the event's time zone; refuse one not in the future.

        The expiry already set may stay as it is (past or not), so other settings can
        still be saved.
        """
        value = self.cleaned_data.get("gallery_expires_at")
        if value is None:
            return None
        aware = attach_zone(value, self.event.timezone)
        if aware != self.event.gallery_expires_at and aware <= timezone.now():
            raise forms.ValidationError(GALLERY_EXPIRY_PAST_MESSAGE, code="past")
        return aware

    def clean(self) -> dict[str, Any]:
        """Refuse a new passcode and "Remove the passcode" at once."""
        data = super().clean() or {}
        if data.get("gallery_passcode") and data.get("clear_gallery_passcode"):
            msg = "Either set a new passcode or remove it, not both."
            raise forms.ValidationError(msg)
        return data

    def passcode(self) -> str | None:
        """Return None (keep the passcode), "" (remove it) or the new passcode."""
        if self.cleaned_data.get("clear_gallery_passcode"):
            return ""
        return self.cleaned_data.get("gallery_passcode") or None
