"""Settings of a daphne that answers errors as production does: DEBUG off.

The embedded defaults otherwise (SQLite, in-process tasks, console SMS): the settings
module is read with DEBUG=true, which skips production's required variables, and DEBUG
is then turned off, which is what Django's error handling reads at request time. Static
files come straight from ``static/`` (no collectstatic). The URLs add views that fail
on purpose (tests/error_urls.py).
"""

from __future__ import annotations

import os

os.environ["DEBUG"] = "true"

from boothsite.settings import *  # noqa: F403

DEBUG = False
ROOT_URLCONF = "tests.error_urls"
WHITENOISE_USE_FINDERS = True
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
