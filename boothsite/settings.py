"""Boothsite settings: one module, driven by environment variables (STYLE.md 2.9).

``DEBUG=true`` and nothing else gives the embedded default: a SQLite file, the in-memory
channel layer, Celery tasks run in-process, local file storage and the console SMS
gateway (``bin/run`` sets it). ``BOOTHSITE_EMBEDDED=true`` gives the same defaults with
DEBUG off, for one laptop serving a party (``bin/run --lan``): guests get the styled
error pages and secure cookies, never a technical page. DEBUG is false when unset: that
is production, which needs the variables listed in ``.env.example``; a missing or weak
production value stops start-up with ImproperlyConfigured naming the variable.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from boothsite import logs
from boothsite.env import (
    env_bool,
    env_float,
    env_int,
    env_list,
    env_secret,
    env_str,
    require,
    require_strong_secret_key,
)

django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

# Off unless DEBUG=true (RELIABILITY 61): an unset DEBUG means production, whose checks
# below then name the first missing variable. bin/run and the tests set DEBUG=true.
DEBUG = env_bool("DEBUG", default=False)
# The embedded defaults (SQLite, in-memory layer, eager tasks, local files, console SMS)
# without the production checks: with DEBUG on, or on purpose for one laptop (LAN mode).
EMBEDDED = env_bool("BOOTHSITE_EMBEDDED", default=DEBUG)
PRODUCTION_WHEN = (
    "when DEBUG is false (the default; set DEBUG=true for development, or "
    "BOOTHSITE_EMBEDDED=true for one laptop)"
)


def _development_secret_key() -> str:
    """Return a per-checkout random key kept in ``.secret_key`` (embedded only, never committed)."""
    path = BASE_DIR / ".secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = env_secret("SECRET_KEY")
if not EMBEDDED:
    require("SECRET_KEY", SECRET_KEY, when=PRODUCTION_WHEN)
if SECRET_KEY and not DEBUG:
    require_strong_secret_key("SECRET_KEY", SECRET_KEY)
if not SECRET_KEY:
    SECRET_KEY = _development_secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
if not EMBEDDED and not env_list("ALLOWED_HOSTS"):
    require("ALLOWED_HOSTS", "", when=PRODUCTION_WHEN)

SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
if not EMBEDDED:
    require("SITE_URL", env_str("SITE_URL"), when=PRODUCTION_WHEN)
if not DEBUG and not SITE_URL.startswith("https://"):
    msg = "SITE_URL must start with https:// when DEBUG is false."
    raise ImproperlyConfigured(msg)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "allauth",
    "allauth.account",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "channels",
    "events",
    "captures",
    "messaging",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # allauth's login stages (email verification) keep their state on the request.
    "allauth.account.middleware.AccountMiddleware",
    # The console needs a verified email address (events.auth).
    "events.auth.VerifiedEmailMiddleware",
    "boothsite.middleware.SecurityHeadersMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into the 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "boothsite.urls"
ASGI_APPLICATION = "boothsite.asgi.application"
WSGI_APPLICATION = "boothsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "events.auth.console_context",
            ],
        },
    },
]

# Database: a SQLite file unless DATABASE_URL is set (PostgreSQL in production).
DATABASE_URL = env_str("DATABASE_URL")
if not EMBEDDED:
    require("DATABASE_URL", DATABASE_URL, when=PRODUCTION_WHEN)
# PostgreSQL goes through Django's psycopg pool (RELIABILITY 69). Daphne runs each
# request's sync code on a thread of its own, and persistent connections (CONN_MAX_AGE
# > 0) left one open connection per thread: 201 requests at 16 at a time took one server
# from 1 to 75 connections, and past PostgreSQL's max_connections (100) requests answer
# 500 (tests/test_connections.py; the same 500 requests now peak at the pool size). With
# the pool a process holds at most DATABASE_POOL_MAX_SIZE connections, and a request waits
# at most DATABASE_POOL_TIMEOUT seconds for a free one. A pool needs CONN_MAX_AGE=0: each
# request hands its connection back when it ends. CONN_HEALTH_CHECKS makes the pool check
# a connection before lending it. Budget: (servers + worker processes) x the pool size
# must stay below the server's max_connections, less what other clients use.
DATABASE_POOL_MAX_SIZE = env_int("DATABASE_POOL_MAX_SIZE", default=10)
DATABASE_POOL_TIMEOUT = env_float("DATABASE_POOL_TIMEOUT", default=10.0)
if DATABASE_POOL_MAX_SIZE < 1 or DATABASE_POOL_TIMEOUT <= 0:
    msg = "DATABASE_POOL_MAX_SIZE must be 1 or more and DATABASE_POOL_TIMEOUT above 0 seconds."
    raise ImproperlyConfigured(msg)
# Each SQLite transaction takes the write lock at BEGIN, so "count, then insert" (the SMS
# caps) cannot interleave; PostgreSQL uses row locks instead.
SQLITE_OPTIONS = {"transaction_mode": "IMMEDIATE", "timeout": 20}
DATABASES: dict[str, Any] = {
    "default": (
        dict(dj_database_url.parse(DATABASE_URL, conn_max_age=0, conn_health_checks=True))
        if DATABASE_URL
        else {"ENGINE": "django.db.backends.sqlite3", "NAME": str(BASE_DIR / "db.sqlite3")}
    )
}
if DATABASES["default"]["ENGINE"].endswith(("postgresql", "postgis")):
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": DATABASE_POOL_MAX_SIZE,
        "timeout": DATABASE_POOL_TIMEOUT,
    }
elif DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["OPTIONS"] = {**SQLITE_OPTIONS, **DATABASES["default"].get("OPTIONS", {})}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out sign-in before the password is checked.
# allauth's backend after Django's lets organisers sign in with their email address too.
AUTHENTICATION_BACKENDS = [
    "events.auth.LoginLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "events:login"
LOGIN_REDIRECT_URL = "events:console"
LOGOUT_REDIRECT_URL = "events:login"

# Accounts (django-allauth, issue 13.1). One sign-in page, /console/login/
# (events:login, allauth's view with the field named "username" as before), takes a
# username or an email address; allauth's /accounts/login/ redirects there. Sign-up asks
# for an email address, a password, the organiser's name and country, and creates the
# user, the organiser and the owner's membership (events.forms.OrganiserSignupForm).
# The address must be verified before the console opens: allauth sends a link (valid
# for 3 days) and refuses a password sign-in until it is followed; staff-made accounts
# without any allauth address are exempt (events.auth). Email change replaces the one
# address after the new one is verified.
ACCOUNT_ADAPTER = "events.auth.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# Sessions last SESSION_COOKIE_AGE (two weeks), as before allauth: no "remember me" box.
ACCOUNT_SESSION_REMEMBER = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Boothsite] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https://") else "http"
ACCOUNT_FORMS = {
    "login": "events.forms.ConsoleLoginForm",
    "signup": "events.forms.OrganiserSignupForm",
}
# allauth's own limits, on top of django-axes (which counts wrong passwords per username
# and address, AXES_* below). Per address only: a limit per username alone would let
# anyone lock an organiser out, and a venue's guests share one address, so the caps are
# well above what a team signing in at one venue needs: 30 sign-in posts and 30 wrong
# passwords a minute from one address (a password spray across usernames), sign-ups,
# reset emails (also 3 a minute per address typed), and other pages per user.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "30/m/ip",
    "signup": "10/m/ip,50/h/ip",
    "reset_password": "10/m/ip,3/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
    "confirm_email": "1/3m/key",
}
# Days an invitation to join an organiser's team stays valid (events.services).
BOOTHSITE_INVITATION_DAYS = 7

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files are served by whitenoise, so daphne alone serves the whole site.
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# In development and on one laptop whitenoise serves straight from the app folders (no
# collectstatic).
WHITENOISE_USE_FINDERS = EMBEDDED
WHITENOISE_AUTOREFRESH = DEBUG

# Redis: channel layer, Celery broker and the shared cache when REDIS_URL is set.
REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
if not EMBEDDED:
    require("REDIS_URL", REDIS_URL or CELERY_BROKER_URL, when=PRODUCTION_WHEN)
# With no broker, tasks run in-process (eagerly) so a clone works out of the box.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_BROKER_URL = CELERY_BROKER_URL or "memory://localhost/"

# channels-redis blocks on BZPOPMIN for 5 s per receive; the socket must wait longer, or
# redis-py gives up mid-wait ("Timeout reading") and the consumer dies with 1011.
REDIS_HOST = {"address": REDIS_URL, "socket_timeout": 15, "socket_connect_timeout": 3}
# The cache (throttle counters, limits) answers in milliseconds; a Redis that accepts TCP
# and never answers holds each request for the socket timeout (redis-py's default: 5 s).
# After 1 s the booth throttles fail open and pairing answers 503 (events.drf).
REDIS_CACHE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
if REDIS_URL:
    CHANNEL_LAYERS: dict[str, Any] = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_HOST], "prefix": "boothsite:ws:"},
        }
    }
    CACHES: dict[str, Any] = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "boothsite",
            "OPTIONS": REDIS_CACHE_OPTIONS,
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: late acknowledgement (tasks are idempotent), bounded time, JSON only.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "boothsite")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_BROKER_CONNECTION_TIMEOUT = 3
# A broker that is down or accepts TCP and never answers must not hold a request
# (issue 11.2): redis-py waits forever without socket timeouts, and kombu's default
# publish policy tries 4 times. Socket timeouts of BOOTHSITE_BROKER_TIMEOUT seconds and
# one quick publish retry (a pooled connection the broker dropped on restart) bound a
# publish to about 2 x 1.5 + 0.2 s; the rows stay pending and the sweepers below queue
# them again (boothsite.celery.publish). Redis only: AMQP uses the connection timeout.
BOOTHSITE_BROKER_TIMEOUT = env_float("BOOTHSITE_BROKER_TIMEOUT", default=1.5)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_timeout": BOOTHSITE_BROKER_TIMEOUT,
    "socket_connect_timeout": BOOTHSITE_BROKER_TIMEOUT,
}
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# Workers keep trying to reach a broker that is away, however long (default: 100 tries).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# The sweepers: a pending render or a queued SMS whose task was queued this many
# seconds ago (or never) is queued again, at most this many times in all, then failed.
# Well above the render retries' ~30 s; SMS retries push their due time ahead.
BOOTHSITE_SWEEP_AFTER_SECONDS = env_int("BOOTHSITE_SWEEP_AFTER_SECONDS", default=120)
# How often beat runs the sweepers. A row whose task the broker did not take is marked
# never queued and goes out with the next sweep, so work left by a broker outage moves
# at most this many seconds after the broker is back.
BOOTHSITE_SWEEP_EVERY_SECONDS = env_int("BOOTHSITE_SWEEP_EVERY_SECONDS", default=15)
BOOTHSITE_RENDER_MAX_ATTEMPTS = env_int("BOOTHSITE_RENDER_MAX_ATTEMPTS", default=5)
BOOTHSITE_SMS_MAX_ENQUEUES = env_int("BOOTHSITE_SMS_MAX_ENQUEUES", default=5)
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_BEAT_SCHEDULE = {
    "expire-stale-sms": {"task": "messaging.tasks.expire_stale_sending", "schedule": 300.0},
    # Each sweep expires before the next one is due, so sweeps never pile up in a queue.
    "sweep-renders": {
        "task": "captures.tasks.sweep_renders",
        "schedule": float(BOOTHSITE_SWEEP_EVERY_SECONDS),
        "options": {"expires": max(1, BOOTHSITE_SWEEP_EVERY_SECONDS - 1)},
    },
    "sweep-queued-sms": {
        "task": "messaging.tasks.sweep_queued_sms",
        "schedule": float(BOOTHSITE_SWEEP_EVERY_SECONDS),
        "options": {"expires": max(1, BOOTHSITE_SWEEP_EVERY_SECONDS - 1)},
    },
    "sweep-queued-email": {
        "task": "messaging.tasks.sweep_queued_email",
        "schedule": float(BOOTHSITE_SWEEP_EVERY_SECONDS),
        "options": {"expires": max(1, BOOTHSITE_SWEEP_EVERY_SECONDS - 1)},
    },
    "purge-personal-data": {
        "task": "messaging.tasks.purge_expired_personal_data",
        "schedule": 86400.0,
    },
    "sweep-webhooks": {
        "task": "events.tasks.sweep_webhooks",
        "schedule": float(BOOTHSITE_SWEEP_EVERY_SECONDS),
        "options": {"expires": max(1, BOOTHSITE_SWEEP_EVERY_SECONDS - 1)},
    },
}

# Storage: local files, or S3-compatible storage through django-storages.
BOOTHSITE_STORAGE = env_str("BOOTHSITE_STORAGE", "local")
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
AWS_S3_ENDPOINT_URL = env_str("AWS_S3_ENDPOINT_URL")
AWS_ACCESS_KEY_ID = env_secret("AWS_ACCESS_KEY_ID")
AWS_SECRET_ACCESS_KEY = env_secret("AWS_SECRET_ACCESS_KEY")
if BOOTHSITE_STORAGE == "s3":
    require("AWS_STORAGE_BUCKET_NAME", AWS_STORAGE_BUCKET_NAME, when="when BOOTHSITE_STORAGE=s3")
    DEFAULT_STORAGE: dict[str, Any] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": AWS_S3_ENDPOINT_URL or None,
            "access_key": AWS_ACCESS_KEY_ID or None,
            "secret_key": AWS_SECRET_ACCESS_KEY or None,
            # Private bucket, signed short-lived URLs, never overwrite (RELIABILITY 59).
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": env_int("BOOTHSITE_MEDIA_URL_TTL", default=300),
            "file_overwrite": False,
        },
    }
elif BOOTHSITE_STORAGE == "local":
    # Signed URLs that expire like S3's: /media/<expiry>.<signature>/<key> (issue 14.4).
    DEFAULT_STORAGE = {
        "BACKEND": "boothsite.media_storage.SignedFileSystemStorage",
        "OPTIONS": {
            "location": MEDIA_ROOT,
            "base_url": MEDIA_URL,
            "url_ttl": env_int("BOOTHSITE_MEDIA_URL_TTL", default=300),
        },
    }
else:
    msg = f'BOOTHSITE_STORAGE must be "local" or "s3", not {BOOTHSITE_STORAGE!r}.'
    raise ImproperlyConfigured(msg)
STORAGES: dict[str, Any] = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if EMBEDDED
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Uploads: the photo cap is captures.imaging.MAX_UPLOAD_BYTES (10 MB). Sent as a base64
# data URL in JSON it is 13,981,016 characters plus the prefix and the JSON wrapper
# (RELIABILITY 17); a larger body is refused with 413 before it is decoded.
DATA_UPLOAD_MAX_MEMORY_SIZE = 14_000_000
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FILES = 5

# SMS: the console gateway records and prints messages; "vonage" sends them for real.
BOOTHSITE_SMS_GATEWAY = env_str("BOOTHSITE_SMS_GATEWAY", "console" if EMBEDDED else "vonage")
if BOOTHSITE_SMS_GATEWAY not in {"console", "vonage"}:
    msg = f'BOOTHSITE_SMS_GATEWAY must be "console" or "vonage", not {BOOTHSITE_SMS_GATEWAY!r}.'
    raise ImproperlyConfigured(msg)
VONAGE_API_KEY = env_secret("VONAGE_API_KEY")
VONAGE_API_SECRET = env_secret("VONAGE_API_SECRET")
VONAGE_FROM = env_str("VONAGE_FROM", "Boothsite")
VONAGE_SIGNATURE_SECRET = env_secret("VONAGE_SIGNATURE_SECRET")
VONAGE_SIGNATURE_METHOD = env_str("VONAGE_SIGNATURE_METHOD", "sha256")
VONAGE_REST_HOST = env_str("VONAGE_REST_HOST", "rest.nexmo.com")
VONAGE_TIMEOUT_SECONDS = env_int("VONAGE_TIMEOUT_SECONDS", default=10)
if BOOTHSITE_SMS_GATEWAY == "vonage":
    when = "when BOOTHSITE_SMS_GATEWAY is vonage"
    require("VONAGE_API_KEY", VONAGE_API_KEY, when=when)
    require("VONAGE_API_SECRET", VONAGE_API_SECRET, when=when)
    require("VONAGE_SIGNATURE_SECRET", VONAGE_SIGNATURE_SECRET, when=when)
# Countries a guest's number may belong to; an event can only narrow this list.
BOOTHSITE_SMS_COUNTRIES = env_list("BOOTHSITE_SMS_COUNTRIES", ["GB", "IE"])
# Abuse limits (RELIABILITY 6-9); a request over a cap gets 429 with Retry-After.
BOOTHSITE_SMS_PER_NUMBER_PER_DAY = env_int("BOOTHSITE_SMS_PER_NUMBER_PER_DAY", default=3)
BOOTHSITE_SMS_PER_BOOTH_PER_MINUTE = env_int("BOOTHSITE_SMS_PER_BOOTH_PER_MINUTE", default=10)
BOOTHSITE_SMS_PER_EVENT_PER_DAY = env_int("BOOTHSITE_SMS_PER_EVENT_PER_DAY", default=500)
BOOTHSITE_SMS_PER_ORGANISER_PER_MONTH = env_int(
    "BOOTHSITE_SMS_PER_ORGANISER_PER_MONTH", default=5000
)
# Pumping breaker: this many messages to one prefix (the number less its last 4 digits)
# within 10 minutes pause the event's sending.
BOOTHSITE_SMS_PREFIX_BURST = env_int("BOOTHSITE_SMS_PREFIX_BURST", default=20)
# Outbound requests per second to the provider, across all workers (Vonage allows 30).
BOOTHSITE_SMS_SEND_RATE = env_int("BOOTHSITE_SMS_SEND_RATE", default=25)
# Guests' share emails (issue 14.5): the same kinds of cap as SMS, counted per session,
# per address per day and per event per day; over one, the booth gets 429 with Retry-After.
BOOTHSITE_EMAIL_PER_SESSION = env_int("BOOTHSITE_EMAIL_PER_SESSION", default=3)
BOOTHSITE_EMAIL_PER_ADDRESS_PER_DAY = env_int("BOOTHSITE_EMAIL_PER_ADDRESS_PER_DAY", default=3)
BOOTHSITE_EMAIL_PER_EVENT_PER_DAY = env_int("BOOTHSITE_EMAIL_PER_EVENT_PER_DAY", default=500)

# Live smile scoring over WebSockets (RELIABILITY 44-45) and the trigger's hysteresis.
BOOTHSITE_WS_MAX_FRAME_BYTES = env_int("BOOTHSITE_WS_MAX_FRAME_BYTES", default=512 * 1024)
BOOTHSITE_WS_MAX_FPS = env_int("BOOTHSITE_WS_MAX_FPS", default=5)
BOOTHSITE_WS_OVER_LIMIT_SECONDS = env_int("BOOTHSITE_WS_OVER_LIMIT_SECONDS", default=10)
# An open socket re-reads its booth (revoked? token rotated?) at most this often while
# frames arrive, in case the revocation's push was lost (RELIABILITY 73).
BOOTHSITE_WS_RECHECK_SECONDS = env_float("BOOTHSITE_WS_RECHECK_SECONDS", default=5.0)
# Longest wait for the channel layer (join, send, leave): a socket is refused with 4013
# after this when Redis is down or silent, instead of hanging (RELIABILITY 47).
BOOTHSITE_WS_LAYER_TIMEOUT_SECONDS = env_float("BOOTHSITE_WS_LAYER_TIMEOUT_SECONDS", default=3.0)
BOOTHSITE_SMILE_TRIGGER_FRAMES = env_int("BOOTHSITE_SMILE_TRIGGER_FRAMES", default=3)
BOOTHSITE_SMILE_COOLDOWN_SECONDS = env_int("BOOTHSITE_SMILE_COOLDOWN_SECONDS", default=5)
BOOTHSITE_SMILE_DETECTOR = env_str("BOOTHSITE_SMILE_DETECTOR")
# Worker processes that score live frames (0: threads of the server process). One per
# usable core lets one server scale past one core (captures/scoring.py).
BOOTHSITE_SMILE_PROCESSES = env_int("BOOTHSITE_SMILE_PROCESSES", default=os.cpu_count() or 1)

# Tokens in share and gallery links: 16 random bytes = 128 bits (W3C capability URLs).
BOOTHSITE_TOKEN_BYTES = env_int("BOOTHSITE_TOKEN_BYTES", default=16)
BOOTHSITE_PAIRING_TTL_SECONDS = env_int("BOOTHSITE_PAIRING_TTL_SECONDS", default=3600)

# Imaging: JPEG quality for variants and strips, thumbnail size, the original's format.
BOOTHSITE_JPEG_QUALITY = env_int("BOOTHSITE_JPEG_QUALITY", default=90)
# Variants and strips are JPEG; PNG keeps them lossless (bit-exact with the seed formula).
BOOTHSITE_VARIANT_FORMAT = env_str("BOOTHSITE_VARIANT_FORMAT", "JPEG").upper()
if BOOTHSITE_VARIANT_FORMAT not in {"JPEG", "PNG"}:
    msg = f'BOOTHSITE_VARIANT_FORMAT must be "JPEG" or "PNG", not {BOOTHSITE_VARIANT_FORMAT!r}.'
    raise ImproperlyConfigured(msg)
BOOTHSITE_THUMBNAIL_SIDE = env_int("BOOTHSITE_THUMBNAIL_SIDE", default=320)

# Client addresses: X-Forwarded-For is trusted only from this many proxies in front of
# the app, each appending the address it saw (0: none, the header is ignored). One rule,
# events.clientip.client_ip, for DRF's throttles, django-axes and django-ratelimit. Never
# run daphne with --proxy-headers: it trusts the header's left-most, client-written entry.
BOOTHSITE_TRUSTED_PROXIES = env_int("BOOTHSITE_TRUSTED_PROXIES", default=0)
if BOOTHSITE_TRUSTED_PROXIES < 0:
    msg = "BOOTHSITE_TRUSTED_PROXIES must be 0 or more (the number of proxies)."
    raise ImproperlyConfigured(msg)

# Guessing (issue 11.10). Sign-ins: django-axes locks one username from one address after
# this many failures, for this long; by the pair, not the address alone, because a
# venue's guests and organisers share one address, and not the username alone, which
# would let anyone lock an organiser out. A success resets the count.
AXES_FAILURE_LIMIT = env_int("BOOTHSITE_LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("BOOTHSITE_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "events.clientip.client_ip"
AXES_LOCKOUT_CALLABLE = "events.views.login_locked_out"
AXES_HTTP_RESPONSE_CODE = 429
# No row per successful sign-in (data minimisation); failures are kept for the lockout.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# Gallery passcodes and guessed link tokens: django-ratelimit rates ("count/[n]unit"),
# counting failures only (events.guessing). Per address, and per gallery for passcodes.
BOOTHSITE_PASSCODE_RATE_PER_IP = env_str("BOOTHSITE_PASSCODE_RATE_PER_IP", "10/15m")
BOOTHSITE_PASSCODE_RATE_PER_GALLERY = env_str("BOOTHSITE_PASSCODE_RATE_PER_GALLERY", "20/15m")
BOOTHSITE_LINK_MISS_RATE = env_str("BOOTHSITE_LINK_MISS_RATE", "60/m")
for _name, _rate in {
    "BOOTHSITE_PASSCODE_RATE_PER_IP": BOOTHSITE_PASSCODE_RATE_PER_IP,
    "BOOTHSITE_PASSCODE_RATE_PER_GALLERY": BOOTHSITE_PASSCODE_RATE_PER_GALLERY,
    "BOOTHSITE_LINK_MISS_RATE": BOOTHSITE_LINK_MISS_RATE,
}.items():
    if not re.fullmatch(r"[1-9]\d*/\d*[smhd]", _rate):
        msg = f'{_name} must look like "10/15m" (count/[n]unit; unit s, m, h or d), not {_rate!r}.'
        raise ImproperlyConfigured(msg)
RATELIMIT_USE_CACHE = "default"
RATELIMIT_IP_META_KEY = "events.clientip.client_ip"
RATELIMIT_FAIL_OPEN = True
# django_ratelimit is deliberately not in INSTALLED_APPS: it needs none, and its checks
# flag Django's own RedisCache (atomic INCR) as unsupported and refuse the embedded
# default's local-memory cache (one process, so one count).

# JSON bodies nest at most this deep (RELIABILITY 71): checked before parsing, far below
# the depth at which Python's parser runs out of recursion (about 1,000).
BOOTHSITE_JSON_MAX_DEPTH = env_int("BOOTHSITE_JSON_MAX_DEPTH", default=32)
# How long a booth's Idempotency-Key is remembered (RELIABILITY 10), in seconds; the
# kiosk's offline queue retries within this window.
BOOTHSITE_IDEMPOTENCY_TTL_SECONDS = env_int("BOOTHSITE_IDEMPOTENCY_TTL_SECONDS", default=86_400)

REST_FRAMEWORK: dict[str, Any] = {
    "NUM_PROXIES": BOOTHSITE_TRUSTED_PROXIES,
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # One JSON parser everywhere: objects only, size and depth checked before parsing.
    "DEFAULT_PARSER_CLASSES": ["boothsite.parsers.JSONObjectParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "boothsite.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "booth": env_str("BOOTHSITE_BOOTH_RATE", "120/min"),
        "pairing": env_str("BOOTHSITE_PAIRING_RATE", "10/min"),
        # The organiser API (events.organiser_api), per API token or signed-in user.
        "api": env_str("BOOTHSITE_API_RATE", "600/min"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# ---- The organiser API's OpenAPI schema (issue 15.2; drf-spectacular) ----
SPECTACULAR_SETTINGS: dict[str, Any] = {
    "TITLE": "Boothsite API",
    "DESCRIPTION": "The organiser API (session or bsk_ token) and the booth API (bth_ token).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs page's assets come from drf-spectacular-sidecar: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Enums named by where they live, so two "status" fields do not clash.
    "ENUM_NAME_OVERRIDES": {
        "SessionStatusEnum": "captures.models.BoothSession.Status",
        "SmsStatusEnum": "messaging.models.SmsMessage.Status",
        "DeliveryStatusEnum": "events.models.WebhookDelivery.Status",
        "RenderStatusEnum": "captures.models.RenderStatus",
    },
    "COMPONENT_SPLIT_REQUEST": True,
    # The same schema file on SQLite and PostgreSQL (no column-size integer bounds).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "events.organiser_api.portable_integer_bounds",
    ],
}

# ---- Webhooks (issue 15.3) ----
# Private, loopback and link-local targets are refused unless this is on (tests, LAN).
BOOTHSITE_WEBHOOK_ALLOW_PRIVATE = env_bool("BOOTHSITE_WEBHOOK_ALLOW_PRIVATE", default=False)
# An endpoint is disabled (and its owners emailed) after this many failed attempts in a
# row, or when one delivery has failed for 24 hours (events.webhooks).
BOOTHSITE_WEBHOOK_MAX_FAILURES = env_int("BOOTHSITE_WEBHOOK_MAX_FAILURES", default=15)

# Security headers (RELIABILITY 62). HTTPS-only settings switch on with DEBUG off.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = [SITE_URL]
    # HSTS preload is an opt-in per domain; W005 only asks whether we opted in.
    SILENCED_SYSTEM_CHECKS = ["security.W021"] if not SECURE_HSTS_PRELOAD else []

# Platform staff alerted when SMS sending pauses: comma-separated e-mail addresses.
ADMINS = [("Boothsite admin", address) for address in env_list("ADMINS")]
SERVER_EMAIL = env_str("SERVER_EMAIL", "boothsite@localhost")
EMAIL_SUBJECT_PREFIX = "[Boothsite] "
# Seconds an SMTP connection may wait (Django's default waits forever). Alerts are sent
# by a task after the commit (messaging.tasks), and a failed one is only logged.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = SERVER_EMAIL
# The SMTP server for alerts and account emails (verification, password reset, email
# change, invitations). Production always sends through SMTP (defaults: localhost:25, no
# login); the embedded defaults print each email on the server's console instead, unless
# EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST")
# EMAIL_BACKEND may name another backend, such as an email service through django-anymail
# ("anymail.backends.mailgun.EmailBackend"), whose settings are the ANYMAIL_* variables
# (ANYMAIL_MAILGUN_API_KEY=… becomes ANYMAIL["MAILGUN_API_KEY"]).
EMAIL_BACKEND = env_str("EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST or not EMBEDDED
    else "django.core.mail.backends.console.EmailBackend"
)
ANYMAIL: dict[str, str] = {
    name.removeprefix("ANYMAIL_"): value
    for name, value in os.environ.items()
    if name.startswith("ANYMAIL_") and value
}
EMAIL_HOST = EMAIL_HOST or "localhost"
EMAIL_PORT = env_int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)

# No phone number, token or passcode in any log line (RELIABILITY 64, 76): every handler
# redacts (boothsite/logs.py), and so does daphne's access log, which bypasses logging.
# Django's own "django" and "django.server" loggers lose the handlers of Django's default
# config, which print unredacted (and e-mail errors to ADMINS, synchronously, from the
# request), and propagate to the root's redacting handler instead.
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "boothsite.logs.RedactingFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        # The SDK logs request params and the Authorization header at DEBUG.
        "vonage": {"level": "WARNING"},
        "vonage_http_client": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        "django.channels.server": {"level": "WARNING"},
        # Deliberate 503s (SMS paused) must not e-mail the admins once per request; the
        # pause itself sends one alert. Error reporting for crashes is the deployment's.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        # In-process tasks would log a line per task into the request or command output.
        "celery.app.trace": {"level": "WARNING" if CELERY_TASK_ALWAYS_EAGER else "INFO"},
    },
}
# Daphne writes its access log straight to a stream, not through logging: redact it there.
logs.install_access_log_redaction()
# A worker keeps the root's redacting handler instead of replacing it with Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# ---- messaging: organisers' own SMS accounts (issue 13, the SMS area) ----
# Fernet keys that encrypt organisers' own Vonage credentials at rest, comma-separated:
# the first encrypts, every one decrypts (add a new key first to rotate). Production needs
# it; the embedded mode derives one from SECRET_KEY (HKDF) when it is unset.
BOOTHSITE_CREDENTIALS_KEY = env_secret("BOOTHSITE_CREDENTIALS_KEY")
if not EMBEDDED:
    require("BOOTHSITE_CREDENTIALS_KEY", BOOTHSITE_CREDENTIALS_KEY, when=PRODUCTION_WHEN)
for _credentials_key in filter(None, BOOTHSITE_CREDENTIALS_KEY.split(",")):
    try:
        from cryptography.fernet import Fernet

        Fernet(_credentials_key.strip().encode())
    except ValueError:
        msg = (
            "BOOTHSITE_CREDENTIALS_KEY must hold Fernet keys (32 url-safe base64-encoded "
            "bytes each, comma-separated). Generate one with: python -c 'from "
            "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        )
        raise ImproperlyConfigured(msg) from None
