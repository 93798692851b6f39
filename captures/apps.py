from __future__ import annotations

from django.apps import AppConfig
from django.conf import settings


class CapturesConfig(AppConfig):
    name = "captures"
    verbose_name = "Captures"

    def ready(self) -> None:
        from captures import signals, tasks  # noqa: F401  (registers the Celery tasks)

        signals.connect()
        if settings.BOOTHSITE_SMILE_DETECTOR:
            from captures import smile

            smile.set_default_detector(settings.BOOTHSITE_SMILE_DETECTOR)
