"""Revoking, rotating and re-pairing a booth tell its open sockets, after the commit."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from events import booth_sockets, services, tokens
from events.models import Booth

pytestmark = pytest.mark.django_db

CHANGES = {
    "revoke": services.revoke_booth,
    "rotate": services.rotate_booth_token,
    "re-pair": lambda booth: services.pair_booth(services.issue_pairing_code(booth).secret),
}


@pytest.fixture(autouse=True)
def in_memory_layer(settings) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def booth_socket(booth: Booth) -> str:
    """A channel in the booth's group, standing in for an open kiosk socket."""
    layer = get_channel_layer()
    assert layer is not None
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(booth_sockets.booth_group(booth), channel)
    return channel


def receive(channel: str) -> dict[str, Any]:
    """The next message on ``channel``; TimeoutError after 5 s."""
    layer = get_channel_layer()
    assert layer is not None

    async def next_message() -> dict[str, Any]:
        return await asyncio.wait_for(layer.receive(channel), 5)

    return async_to_sync(next_message)()


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_the_booth_group_hears_booth_revoked_after_the_commit(
    tenant_a, change, django_capture_on_commit_callbacks
):
    channel = booth_socket(tenant_a.booth)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        change(tenant_a.booth)
    assert len(callbacks) == 1
    assert receive(channel) == {"type": "booth.revoked"}


def revoke_then_fail(booth: Booth) -> None:
    with transaction.atomic():
        services.revoke_booth(booth)
        raise RuntimeError


def test_a_rolled_back_revocation_tells_no_socket(tenant_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        revoke_then_fail(tenant_a.booth)
    assert callbacks == []
    assert Booth.objects.get(pk=tenant_a.booth.pk).revoked_at is None


def test_a_dead_channel_layer_does_not_undo_the_revocation(
    tenant_a, settings, caplog, django_capture_on_commit_callbacks
):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:9/0"]},  # port 9 (discard): refused
        }
    }
    with django_capture_on_commit_callbacks(execute=True):
        services.revoke_booth(tenant_a.booth)
    assert Booth.objects.get(pk=tenant_a.booth.pk).revoked_at is not None
    assert "Live update to booth." in caplog.text


def test_a_ticket_names_the_token_it_was_issued_for(tenant_a):
    from events import access

    ticket = tokens.socket_ticket(tenant_a.booth.public_id, tenant_a.booth.token_hash)
    assert access.access_booth_by_ticket(ticket) == tenant_a.booth
    assert tenant_a.booth.token_hash not in ticket
    services.rotate_booth_token(tenant_a.booth)
    assert access.access_booth_by_ticket(ticket) is None
    fresh = tokens.socket_ticket(tenant_a.booth.public_id, tenant_a.booth.token_hash)
    assert access.access_booth_by_ticket(fresh) == tenant_a.booth
