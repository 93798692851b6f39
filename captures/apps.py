from __future__ import annotations

from django.apps import AppConfig
from django.conf import settings


class CapturesConfig(AppConfig):
    name = "captures"
    verbose_name = "Captures"

    def ready(self) -> None:
        from captures import imaging, signals, tasks  # noqa: F401  (registers the Celery tasks)
        from events.models import register_render_names

        signals.connect()
        # Event.clean() refuses filter and layout names the renderer does not know.
        register_render_names(filters=imaging.FILTERS, strip_layouts=imaging.STRIP_LAYOUTS)
        if settings.BOOTHSITE_SMILE_DETECTOR:
            from captures import smile

            smile.set_default_detector(settings.BOOTHSITE_SMILE_DETECTOR)
