"""Staff admin for organisers, events and booths.

Related choices never cross tenants: a booth's current event is chosen among its own
organiser's events, and every form runs the models' ``clean()`` (RELIABILITY 33). An
event's gallery passcode is set from a plain input and stored only as a hash; the admin
never shows it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from events.models import (
    GALLERY_PASSCODE_LENGTH,
    Booth,
    Event,
    IdempotencyKey,
    Invitation,
    Membership,
    Organiser,
    canonical_origin,
)


class MembershipInline(admin.TabularInline[Membership, Organiser]):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


class OriginsField(forms.Field):
    """A list of origins typed one per line; each is stored as a browser sends it.

    ``https://Booth.example.com/`` is kept as ``https://booth.example.com``; a line that
    is not an origin (a path, a wildcard, another scheme) is a form error naming it.
    """

    widget = forms.Textarea(attrs={"rows": 3, "cols": 60})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return "\n".join(str(item) for item in value)
        return value

    def to_python(self, value: Any) -> list[str]:
        origins: list[str] = []
        for line in str(value or "").splitlines():
            if line.strip():
                origin = canonical_origin(line)
                if origin not in origins:
                    origins.append(origin)
        return origins


class OrganiserAdminForm(forms.ModelForm[Organiser]):
    """The organiser form, with its compat origins one per line.

    No ``Meta``: ``OrganiserAdmin`` supplies the model and its fields.
    """

    compat_origins = OriginsField(
        label="Compat origins",
        required=False,
        help_text="One origin per line, e.g. https://booth.example.com: pages served from "
        "it may post to this organiser's booths' /compat/<booth token>/send-mms from a "
        "browser (CORS). Empty: none.",
    )


@admin.register(Organiser)
class OrganiserAdmin(admin.ModelAdmin[Organiser]):
    form = OrganiserAdminForm
    list_display = ["name", "slug", "country", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


class EventAdminForm(forms.ModelForm[Event]):
    """The event form with a write-only passcode input (empty keeps the current one).

    No ``Meta``: ``EventAdmin`` supplies the model and its fields.
    """

    gallery_passcode = forms.CharField(
        label="New gallery passcode",
        required=False,
        strip=True,
        min_length=GALLERY_PASSCODE_LENGTH[0],
        max_length=GALLERY_PASSCODE_LENGTH[1],
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Guests type it to open a passcode gallery. Stored hashed; leave empty "
        "to keep the current passcode.",
    )
    clear_gallery_passcode = forms.BooleanField(label="Remove the passcode", required=False)

    def clean(self) -> dict[str, Any]:
        """Put the new passcode's hash on the instance before the model's ``clean()``."""
        data = super().clean() or {}
        passcode = data.get("gallery_passcode") or ""
        if passcode and data.get("clear_gallery_passcode"):
            msg = "Either set a new passcode or remove it, not both."
            raise ValidationError(msg)
        if data.get("clear_gallery_passcode"):
            self.instance.gallery_passcode_hash = ""
        elif passcode:
            try:
                self.instance.set_gallery_passcode(passcode)
            except ValidationError as exc:
                self.add_error("gallery_passcode", exc.messages)
        return data


@admin.register(Event)
class EventAdmin(admin.ModelAdmin[Event]):
    form = EventAdminForm
    list_display = ["name", "organiser", "starts_at", "gallery_visibility", "archived_at"]
    list_filter = ["organiser", "gallery_visibility"]
    list_select_related = ["organiser"]
    search_fields = ["name", "slug"]
    exclude = ["gallery_token"]
    readonly_fields = ["has_gallery_passcode"]

    @admin.display(boolean=True, description="Passcode set")
    def has_gallery_passcode(self, event: Event) -> bool:
        return bool(event.gallery_passcode_hash)


@admin.register(Booth)
class BoothAdmin(admin.ModelAdmin[Booth]):
    list_display = ["name", "organiser", "current_event", "last_seen_at", "revoked_at"]
    list_filter = ["organiser"]
    list_select_related = ["organiser", "current_event"]
    search_fields = ["name"]
    readonly_fields = ["token_prefix", "last_seen_at"]

    def get_form(
        self, request: HttpRequest, obj: Booth | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm[Booth]]:
        """Offer only the booth's own organiser's events (Booth.clean checks the rest)."""
        form = super().get_form(request, obj, change=change, **kwargs)
        field = form.base_fields.get("current_event")
        if obj is not None and isinstance(field, forms.ModelChoiceField):
            field.queryset = Event.objects.for_organiser(obj.organiser)
        return form


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin[IdempotencyKey]):
    """Read-only: the booth API's Idempotency-Keys and the answers they replay."""

    list_display = ["key", "booth", "route", "response_status", "created_at"]
    list_filter = ["route", "response_status"]
    list_select_related = ["booth"]
    search_fields = ["key"]
    readonly_fields = [
        "booth",
        "key",
        "route",
        "request_hash",
        "response_status",
        "response_body",
        "created_at",
        "completed_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin[Invitation]):
    """Team invitations, read-only: staff see who was invited; only a hash of the link is kept.

    Owners invite, send again and cancel from the console's team page.
    """

    list_display = ["email", "organiser", "role", "created_at", "expires_at", "accepted_at"]
    list_filter = ["role"]
    list_select_related = ["organiser"]
    search_fields = ["email", "organiser__name"]
    readonly_fields = [
        "organiser",
        "email",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "accepted_by",
        "cancelled_at",
    ]
    exclude = ["token_hash"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
