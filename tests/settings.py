"""Test settings: the production module plus test-only overrides (STYLE.md 2.9).

The suite runs on the embedded defaults, and against PostgreSQL and Redis when
``DATABASE_URL`` and ``REDIS_URL`` are set (see ``.ci/run``). Tasks run eagerly except in
the tests that start a real Celery worker.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DEBUG", "true")

from boothsite.settings import *  # noqa: F403
from boothsite.settings import DATABASES, REDIS_HOST, REDIS_URL

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The production pool size, with a longer wait: the 50-thread race of
# tests/messaging/test_limits.py queues 40 threads for the pool's connections, and a
# loaded 2-core machine must not time them out.
if "pool" in DATABASES["default"].get("OPTIONS", {}):
    DATABASES["default"]["OPTIONS"]["pool"]["timeout"] = 60
CELERY_TASK_ALWAYS_EAGER = True
BOOTHSITE_SMS_GATEWAY = "console"
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="boothsite-test-media-"))
STORAGES = {
    "default": {
        "BACKEND": "boothsite.media_storage.SignedFileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "base_url": "/media/"},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
BOOTHSITE_STORAGE = "local"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Consumer tests run each test on an event loop of its own, and scoring workers belong
# to one loop: in-process threads here. Worker processes are tested in
# tests/captures/test_scoring.py and serve the browser tests' daphne.
BOOTHSITE_SMILE_PROCESSES = 0
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [{**REDIS_HOST, "address": REDIS_URL}],
                "prefix": "boothsite-test:ws:",
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "boothsite-test",
        }
    }
# Tests send far faster than a real account allows; test_ratelimit.py covers the limiter.
BOOTHSITE_SMS_SEND_RATE = 100_000
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"booth": "10000/min", "pairing": "10000/min", "api": "10000/min"},
}
