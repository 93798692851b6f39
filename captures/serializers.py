"""JSON shapes of the booth API (output only; inputs are parsed in ``api.py``)."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from rest_framework import serializers

from captures.models import BoothSession, Capture, CaptureVariant, Strip


def media_url(name: str, context: dict[str, Any]) -> str | None:
    """Return an absolute URL for a stored file (signed and short-lived on S3)."""
    if not name:
        return None
    url = default_storage.url(name)
    request = context.get("request")
    if request is not None and url.startswith("/"):
        return str(request.build_absolute_uri(url))
    return url


class VariantSerializer(serializers.ModelSerializer[CaptureVariant]):
    name = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = CaptureVariant
        fields = ["filter", "name", "width", "height", "url", "thumbnail_url"]

    def get_name(self, variant: CaptureVariant) -> str:
        return variant.label

    def get_url(self, variant: CaptureVariant) -> str | None:
        return media_url(variant.image.name, self.context)

    def get_thumbnail_url(self, variant: CaptureVariant) -> str | None:
        return media_url(variant.thumbnail.name, self.context)


class CaptureSerializer(serializers.ModelSerializer[Capture]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    status = serializers.CharField(source="render_status", read_only=True)
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    variants = VariantSerializer(many=True, read_only=True)

    class Meta:
        model = Capture
        fields = [
            "id",
            "status",
            "taken_at",
            "trigger",
            "smile_score",
            "width",
            "height",
            "url",
            "thumbnail_url",
            "variants",
        ]

    def get_url(self, capture: Capture) -> str | None:
        return media_url(capture.image.name, self.context)

    def get_thumbnail_url(self, capture: Capture) -> str | None:
        return media_url(capture.thumbnail.name, self.context)


class StripSerializer(serializers.ModelSerializer[Strip]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = Strip
        fields = ["id", "layout", "filter", "status", "width", "height", "url", "thumbnail_url"]

    def get_url(self, strip: Strip) -> str | None:
        return media_url(strip.image.name, self.context)

    def get_thumbnail_url(self, strip: Strip) -> str | None:
        return media_url(strip.thumbnail.name, self.context)


class SessionSerializer(serializers.ModelSerializer[BoothSession]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    event = serializers.SerializerMethodField()
    share_url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()
    captures = serializers.SerializerMethodField()
    strips = StripSerializer(many=True, read_only=True)
    ready = serializers.SerializerMethodField()

    class Meta:
        model = BoothSession
        fields = [
            "id",
            "status",
            "ready",
            "event",
            "started_at",
            "finished_at",
            "share_url",
            "download_url",
            "captures",
            "strips",
        ]

    def get_event(self, session: BoothSession) -> dict[str, Any]:
        event = session.event
        return {
            "name": event.name,
            "countdown_seconds": event.countdown_seconds,
            "captures_per_session": event.captures_per_session,
            "smile_threshold": event.smile_threshold,
        }

    def get_share_url(self, session: BoothSession) -> str:
        return session.share_url()

    def get_download_url(self, session: BoothSession) -> str:
        return session.download_url()

    def get_captures(self, session: BoothSession) -> list[dict[str, Any]]:
        visible = [capture for capture in session.captures.all() if not capture.hidden]
        return CaptureSerializer(visible, many=True, context=self.context).data  # type: ignore[return-value]

    def get_ready(self, session: BoothSession) -> bool:
        """Whether the booth can stop waiting: finished, and no capture or strip pending.

        Each capture's and strip's ``status`` says how it ended: ``ready``, or
        ``failed`` (its render gave up; the kiosk and the guest page say so). A render
        queued again by the sweeper is ``pending`` again, so ``ready`` turns false.
        """
        captures = [capture for capture in session.captures.all() if not capture.hidden]
        strips = list(session.strips.all())
        return (
            session.status == BoothSession.Status.FINISHED
            and all(capture.render_status != "pending" for capture in captures)
            and all(strip.status != "pending" for strip in strips)
        )
