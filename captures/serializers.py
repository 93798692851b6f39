"""JSON shapes of the booth API: what it answers, and the upload it validates.

Output: ``SessionSerializer`` (with its captures, variants and strips) and
``CaptureSerializer``. Input: ``CaptureUploadSerializer`` validates an upload's ``image``
(a multipart file part or a JSON data URL), ``trigger`` and ``smile_score``; the
``*RequestSerializer`` classes only describe the two body shapes in the OpenAPI schema.
"""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from captures import imaging
from captures.models import BoothSession, Capture, CaptureVariant, Strip

NO_IMAGE_MESSAGE = "No image was sent."
#: A real 64 x 48 PNG as a data URL: the schema's upload example (fuzzers send it as is).
EXAMPLE_DATA_URL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAEAAAAAwCAIAAAAuKetIAAAARUlEQVR42u3PAQkAMAgAMH0"
    "aIxrRWG8hCFuD5XTFZS+OExAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQENjzAdHXAchd9gdMAAAAAElFTkSuQmCC"
)
SMILE_SCORE_MESSAGE = "Enter a number from 0 to 1."
TRIGGER_MESSAGE = f"Choose one of: {', '.join(Capture.Trigger.values)}."


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


class SessionEventSerializer(serializers.Serializer[Any]):
    """The event a session belongs to, as its ``event`` field (schema only)."""

    name = serializers.CharField()
    countdown_seconds = serializers.IntegerField()
    captures_per_session = serializers.IntegerField()
    smile_threshold = serializers.FloatField()


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

    @extend_schema_field(SessionEventSerializer)
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

    @extend_schema_field(CaptureSerializer(many=True))
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


@extend_schema_field(OpenApiTypes.STR)
class ImageField(serializers.Field):  # type: ignore[type-arg]
    """An upload's photo: a multipart file part, or a JSON ``data:image/…;base64,`` URL.

    Returns the file's bytes or the data URL (``str``; decoded by ``imaging``). Missing,
    empty, null or any other type is the field error "No image was sent.".

    :raises imaging.InvalidImage: (413, not a field error) for a file part over
        ``imaging.MAX_UPLOAD_BYTES``, before it is read.
    """

    default_error_messages = {
        "required": NO_IMAGE_MESSAGE,
        "null": NO_IMAGE_MESSAGE,
        "invalid": NO_IMAGE_MESSAGE,
    }

    def to_internal_value(self, data: Any) -> bytes | str:
        if isinstance(data, UploadedFile):
            if data.size is not None and data.size > imaging.MAX_UPLOAD_BYTES:
                raise imaging.InvalidImage("too_large")
            content: bytes = data.read()
            return content
        if isinstance(data, str) and data:
            return data
        self.fail("invalid")
        raise AssertionError  # pragma: no cover  (fail raises)

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(
    {"type": "number", "minimum": 0, "maximum": 1, "nullable": True, "example": 0.82}
)
class SmileScoreField(serializers.Field):  # type: ignore[type-arg]
    """A smile score from 0 to 1 (a JSON number or its text); null or "" is no score.

    NaN, infinities, text that is not a number and anything out of range are the field
    error "Enter a number from 0 to 1.".
    """

    default_error_messages = {"invalid": SMILE_SCORE_MESSAGE}

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data == "":
            return True, None
        return super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> float:
        try:
            score = float(data)
        except (TypeError, ValueError):
            self.fail("invalid")
        if not 0.0 <= score <= 1.0:
            self.fail("invalid")
        return score

    def to_representation(self, value: Any) -> Any:
        return value


class CaptureUploadSerializer(serializers.Serializer[Any]):
    """Validate an upload: ``image`` (required), ``trigger`` and ``smile_score`` (optional).

    ``validated_data`` is ``{"image": bytes | str, "trigger": str, "smile_score": float |
    None}``; a missing, blank or null ``trigger`` is ``manual``.
    """

    image = ImageField()
    trigger = serializers.ChoiceField(
        choices=Capture.Trigger.values,
        required=False,
        allow_blank=True,
        allow_null=True,
        error_messages={"invalid_choice": TRIGGER_MESSAGE},
    )
    smile_score = SmileScoreField(required=False, allow_null=True)

    def validate_trigger(self, value: str | None) -> str:
        return value or Capture.Trigger.MANUAL

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs.setdefault("trigger", Capture.Trigger.MANUAL)
        attrs.setdefault("smile_score", None)
        return attrs


class CaptureJSONRequestSerializer(serializers.Serializer[Any]):
    """The JSON upload body (schema only): the photo as a data URL."""

    image = serializers.CharField(
        help_text="A data URL: data:image/jpeg;base64,… or data:image/png;base64,…"
    )
    trigger = serializers.ChoiceField(choices=Capture.Trigger.choices, required=False)
    smile_score = serializers.FloatField(min_value=0, max_value=1, required=False, allow_null=True)


class CaptureMultipartRequestSerializer(serializers.Serializer[Any]):
    """The multipart upload body (schema only): the photo as a file part."""

    image = serializers.FileField(help_text="A JPEG or PNG photo.")
    trigger = serializers.ChoiceField(choices=Capture.Trigger.choices, required=False)
    smile_score = serializers.FloatField(min_value=0, max_value=1, required=False, allow_null=True)
