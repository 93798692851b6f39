"""The two-tenant world: organiser A (owner and viewer, event, booth) and organiser B."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from channels.layers import channel_layers
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from events.models import Booth, Event, Organiser
from events.roles import Role
from tests import factories


@dataclass
class Tenant:
    organiser: Organiser
    owner: User
    viewer: User
    event: Event
    booth: Booth
    token: str


def _tenant(slug: str) -> Tenant:
    organiser = factories.make_organiser(name=f"Organiser {slug}", slug=slug)
    owner = factories.make_member(organiser, Role.OWNER, username=f"owner-{slug}")
    viewer = factories.make_member(organiser, Role.VIEWER, username=f"viewer-{slug}")
    # Both tenants use the same event slug on purpose: slugs are unique per organiser.
    event = factories.make_event(organiser, slug="party")
    booth, token = factories.make_booth(event, name=f"Booth {slug}")
    return Tenant(organiser, owner, viewer, event, booth, token)


@pytest.fixture
def tenant_a(db) -> Tenant:
    return _tenant("alpha")


@pytest.fixture
def tenant_b(db) -> Tenant:
    return _tenant("bravo")


def booth_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Booth {token}")
    return client


@pytest.fixture
def booth_client_a(tenant_a: Tenant) -> APIClient:
    return booth_client(tenant_a.token)


@pytest.fixture
def booth_client_b(tenant_b: Tenant) -> APIClient:
    return booth_client(tenant_b.token)


@pytest.fixture
def client_owner_a(tenant_a: Tenant) -> Client:
    client = Client()
    client.force_login(tenant_a.owner)
    return client


@pytest.fixture
def anon_client() -> Client:
    return Client()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path: Path) -> Path:
    """Point storage at a fresh folder for each test, so leftover files are visible."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "boothsite.media_storage.SignedFileSystemStorage",
            "OPTIONS": {"location": root, "base_url": "/media/"},
        },
    }
    return root


@pytest.fixture(autouse=True)
def clear_cache() -> None:
    """Start each test with an empty cache (Redis keeps keys between tests and runs)."""
    cache.clear()


@pytest.fixture(autouse=True)
def fresh_channel_layer() -> None:
    """Give each test a channel layer of its own.

    Every async test runs on an event loop of its own, and channels-redis keeps state
    bound to the loop that first used it (its receive lock and connection pools): a
    consumer left waiting in one test made the next test's teardown hang on PostgreSQL
    and Redis about one run in two.
    """
    channel_layers.backends = {}


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]
