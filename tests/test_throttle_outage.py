"""Redis down: the booth API's throttles (issue 11 point 4, the HTTP part).

DRF's throttles count in the cache, Redis in production. A private redis-server (never
the machine's shared one) backs the cache here; the test stops it and starts it again.
While it is down, booth requests (``sessions/``, ``captures/``) go through: the booth
throttle fails open, with one logged warning per outage. Pairing, the anonymous
endpoint, fails closed with 503 and ``Retry-After``. When Redis is back, both count
again without a restart.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator

import pytest
from rest_framework.throttling import SimpleRateThrottle

from boothsite import settings as production
from events import drf
from tests import factories
from tests.socket_site import PrivateRedis, SilentServer

pytestmark = pytest.mark.django_db

LOGGER = "events.drf"


@pytest.fixture
def redis_server(tmp_path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def use_cache_at(settings, monkeypatch, url: str) -> None:
    """Point the cache at ``url`` as production configures it; small throttle rates."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "boothsite-outage-test",
            "OPTIONS": production.REDIS_CACHE_OPTIONS,
        }
    }
    rates = {**SimpleRateThrottle.THROTTLE_RATES, "booth": "4/min", "pairing": "2/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(drf, "THROTTLE_CACHE", drf.CacheOutage())
    monkeypatch.setattr("events.api.THROTTLE_CACHE", drf.THROTTLE_CACHE)


@pytest.fixture
def redis_cache(settings, redis_server: PrivateRedis, monkeypatch) -> PrivateRedis:
    use_cache_at(settings, monkeypatch, redis_server.url)
    return redis_server


def image() -> dict[str, str]:
    return {
        "image": "data:image/png;base64," + base64.b64encode(factories.image_bytes("PNG")).decode()
    }


def outage_warnings(caplog) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING
    ]


def test_booth_requests_go_through_while_redis_is_down(
    redis_cache, booth_client_a, tenant_a, caplog
):
    session = factories.make_session(tenant_a.booth)
    redis_cache.stop()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        started = [booth_client_a.post("/api/v1/booth/sessions/") for _ in range(6)]
        uploaded = booth_client_a.post(
            f"/api/v1/booth/sessions/{session.public_id}/captures/", image(), format="json"
        )
    assert [r.status_code for r in started] == [201] * 6  # over the 4/min rate: not counted
    assert uploaded.status_code == 201, uploaded.content
    warnings = outage_warnings(caplog)
    assert len(warnings) == 1, warnings  # once per outage, not once per request
    assert "Throttle cache unavailable" in warnings[0]


def test_booth_throttle_counts_again_when_redis_is_back(
    redis_cache, booth_client_a, tenant_a, caplog
):
    redis_cache.stop()
    assert booth_client_a.post("/api/v1/booth/sessions/").status_code == 201
    redis_cache.start()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        statuses = [booth_client_a.post("/api/v1/booth/sessions/").status_code for _ in range(5)]
    assert statuses == [201, 201, 201, 201, 429]
    assert any("cache is back" in message for message in outage_warnings(caplog))


def test_pairing_answers_503_while_redis_is_down_and_counts_when_back(redis_cache, db):
    from rest_framework.test import APIClient

    client = APIClient()
    redis_cache.stop()
    response = client.post("/api/v1/booth/pair/", {"code": "bpc_wrong"}, format="json")
    assert response.status_code == 503
    assert response.json()["code"] == "throttle_unavailable"
    assert int(response["Retry-After"]) > 0
    redis_cache.start()
    statuses = [
        client.post("/api/v1/booth/pair/", {"code": "bpc_wrong"}, format="json").status_code
        for _ in range(3)
    ]
    assert statuses == [400, 400, 429]


def test_a_second_outage_is_logged_again(redis_cache, booth_client_a, caplog):
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        for _ in range(2):
            redis_cache.stop()
            booth_client_a.post("/api/v1/booth/sessions/")
            booth_client_a.post("/api/v1/booth/sessions/")
            redis_cache.start()
            booth_client_a.post("/api/v1/booth/sessions/")
    messages = outage_warnings(caplog)
    assert sum("unavailable" in m for m in messages) == 2
    assert sum("cache is back" in m for m in messages) == 2


def test_a_silent_redis_does_not_hold_booth_requests(settings, monkeypatch, booth_client_a):
    """A Redis that accepts TCP and never answers: the request waits the cache's socket
    timeout (``REDIS_CACHE_OPTIONS``, 1 s), then the throttle fails open."""
    silent = SilentServer()
    try:
        use_cache_at(settings, monkeypatch, silent.url)
        response = booth_client_a.post("/api/v1/booth/sessions/")
    finally:
        silent.close()
    assert response.status_code == 201
    assert drf.THROTTLE_CACHE.down
