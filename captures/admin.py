from __future__ import annotations

from django.contrib import admin

from captures.models import BoothSession, Capture, CaptureVariant, Strip


class CaptureInline(admin.TabularInline[Capture, BoothSession]):
    model = Capture
    extra = 0
    fields = ["public_id", "taken_at", "trigger", "render_status", "hidden"]
    readonly_fields = ["public_id", "taken_at", "trigger", "render_status"]
    can_delete = False


@admin.register(BoothSession)
class BoothSessionAdmin(admin.ModelAdmin[BoothSession]):
    list_display = ["public_id", "event", "booth", "status", "started_at"]
    list_filter = ["status", "event__organiser"]
    list_select_related = ["event", "booth"]
    readonly_fields = ["public_id", "booth", "event", "started_at", "finished_at"]
    exclude = ["share_token"]
    inlines = [CaptureInline]


@admin.register(Capture)
class CaptureAdmin(admin.ModelAdmin[Capture]):
    list_display = ["public_id", "event", "taken_at", "trigger", "render_status", "hidden"]
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
        "taken_at",
    ]


@admin.register(CaptureVariant)
class CaptureVariantAdmin(admin.ModelAdmin[CaptureVariant]):
    list_display = ["capture", "filter", "width", "height", "created_at"]
    list_filter = ["filter"]
    raw_id_fields = ["capture"]


@admin.register(Strip)
class StripAdmin(admin.ModelAdmin[Strip]):
    list_display = ["public_id", "event", "layout", "filter", "status", "created_at"]
    list_filter = ["layout", "status"]
    list_select_related = ["event"]
    raw_id_fields = ["session"]
