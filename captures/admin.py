"""Staff admin for sessions, captures, variants and strips.

Booths and the render pipeline create these rows, never the admin (no "add"). Their
links (booth, session, capture, event) are read-only here, and every save runs the
models' ``clean()``, which refuses an event of another organiser (RELIABILITY 33).
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from captures.models import BoothSession, Capture, CaptureVariant, Strip

#: How a render was queued and how it failed (RenderStatus): shown, never edited.
RENDER_RECORD = ["render_attempts", "render_enqueued_at", "render_error", "render_retryable"]


class NoAddMixin:
    """For admins that may change and delete rows but never add them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class CaptureInline(admin.TabularInline[Capture, BoothSession]):
    model = Capture
    extra = 0
    fields = ["public_id", "taken_at", "trigger", "render_status", "hidden"]
    readonly_fields = ["public_id", "taken_at", "trigger", "render_status"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: BoothSession | None = None) -> bool:
        return False


@admin.register(BoothSession)
class BoothSessionAdmin(NoAddMixin, admin.ModelAdmin[BoothSession]):
    list_display = ["public_id", "event", "booth", "status", "started_at"]
    list_filter = ["status", "event__organiser"]
    list_select_related = ["event", "booth"]
    readonly_fields = ["public_id", "booth", "event", "started_at", "finished_at"]
    exclude = ["share_token"]
    inlines = [CaptureInline]


@admin.register(Capture)
class CaptureAdmin(NoAddMixin, admin.ModelAdmin[Capture]):
    list_display = [
        "public_id", "event", "taken_at", "trigger", "render_status", "render_error", "hidden",
    ]  # fmt: skip
    list_filter = ["render_status", "trigger", "hidden", "event__organiser"]
    list_select_related = ["event"]
    readonly_fields = [
        "public_id",
        "session",
        "event",
        "image",
        "thumbnail",
        "format",
        "width",
        "height",
        "size_bytes",
        "sha256",
        "smile_score",
        "trigger",
        "render_status",
        *RENDER_RECORD,
        "taken_at",
    ]


@admin.register(CaptureVariant)
class CaptureVariantAdmin(NoAddMixin, admin.ModelAdmin[CaptureVariant]):
    list_display = ["capture", "filter", "width", "height", "created_at"]
    list_filter = ["filter"]
    readonly_fields = ["capture", "event"]


@admin.register(Strip)
class StripAdmin(NoAddMixin, admin.ModelAdmin[Strip]):
    list_display = [
        "public_id", "event", "layout", "filter", "status", "render_error", "created_at",
    ]  # fmt: skip
    list_filter = ["layout", "status"]
    list_select_related = ["event"]
    readonly_fields = ["session", "event", *RENDER_RECORD]
