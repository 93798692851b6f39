"""Fixtures for SMS tests: the Vonage TLS stub and a session ready to share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from boothsite.celery import app as celery_app
from captures import services as capture_services
from tests import factories
from tests.vonage_stub import VonageStub


@pytest.fixture(scope="session")
def vonage_stub(tmp_path_factory) -> Iterator[VonageStub]:
    stub = VonageStub(Path(tmp_path_factory.mktemp("vonage")))
    yield stub
    stub.close()


@pytest.fixture
def vonage(vonage_stub: VonageStub, settings, monkeypatch) -> VonageStub:
    """Send through the real vonage SDK to the stub (TLS verified against its own CA).

    In-process task runs retry in-process too: Celery only does that when eager
    exceptions do not propagate.
    """
    vonage_stub.script.clear()
    vonage_stub.requests.clear()
    settings.BOOTHSITE_SMS_GATEWAY = "vonage"
    settings.VONAGE_API_KEY = "stub-key"
    settings.VONAGE_API_SECRET = "stub-secret-value"
    settings.VONAGE_SIGNATURE_SECRET = ""
    settings.VONAGE_REST_HOST = vonage_stub.host
    settings.VONAGE_TIMEOUT_SECONDS = 1
    settings.ADMINS = [("Ops", "ops@example.com")]
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(vonage_stub.ca_file))
    monkeypatch.setattr(celery_app.conf, "task_eager_propagates", False)
    return vonage_stub


@pytest.fixture
def shareable_session(tenant_a):
    session = factories.make_session(tenant_a.booth)
    capture_services.record_capture(session, factories.image_bytes("PNG"))
    return session
