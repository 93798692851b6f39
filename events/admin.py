from __future__ import annotations

from django.contrib import admin

from events.models import Booth, Event, Membership, Organiser


class MembershipInline(admin.TabularInline[Membership, Organiser]):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Organiser)
class OrganiserAdmin(admin.ModelAdmin[Organiser]):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin[Event]):
    list_display = ["name", "organiser", "starts_at", "gallery_visibility", "archived_at"]
    list_filter = ["organiser", "gallery_visibility"]
    list_select_related = ["organiser"]
    search_fields = ["name", "slug"]
    exclude = ["gallery_token"]


@admin.register(Booth)
class BoothAdmin(admin.ModelAdmin[Booth]):
    list_display = ["name", "organiser", "current_event", "last_seen_at", "revoked_at"]
    list_filter = ["organiser"]
    list_select_related = ["organiser", "current_event"]
    search_fields = ["name"]
    readonly_fields = ["token_prefix", "last_seen_at"]
