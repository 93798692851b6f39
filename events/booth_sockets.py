"""A booth's open kiosk sockets as events sees them: their Channels group, and closing them.

The booth socket (``captures.consumers.BoothConsumer``) joins ``booth_group(booth)``.
Revoking, rotating or re-pairing a booth (``events.services``) calls
``close_booth_sockets``: after the commit, ``{"type": "booth.revoked"}`` goes to that
group and every socket of the booth closes with 4003 at once. The send is best effort
(the channel layer spec promises no delivery and Redis may be down), so the consumer
also re-checks its booth every ``BOOTHSITE_WS_RECHECK_SECONDS`` while frames arrive.

This module lives in ``events`` because ``events`` may not import ``captures``
(import-linter: events <- captures <- messaging).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from events import tokens
from events.models import Booth

logger = logging.getLogger(__name__)

#: The group message that closes a booth's sockets (handled by ``BoothConsumer.booth_revoked``).
BOOTH_REVOKED = "booth.revoked"


def booth_group(booth: Booth) -> str:
    """Return the Channels group of one booth's kiosk sockets: ``booth.<uuid hex>``."""
    return f"booth.{booth.public_id.hex}"


def send_to_group(group: str, message: dict[str, Any]) -> bool:
    """Send ``message`` to ``group`` from sync code; False (and a warning) if it fails.

    Bounded by ``BOOTHSITE_WS_LAYER_TIMEOUT_SECONDS``: a Redis that accepts connections
    and never answers cannot hold the caller (a request, a task) longer than that.
    Never raises.
    """
    layer = get_channel_layer()
    if layer is None:
        return False

    async def send() -> None:
        await asyncio.wait_for(
            layer.group_send(group, message), settings.BOOTHSITE_WS_LAYER_TIMEOUT_SECONDS
        )

    try:
        async_to_sync(send)()
    except Exception as error:
        logger.warning(
            "Live update to %s was dropped: the channel layer failed (%s).",
            group,
            type(error).__name__,
        )
        return False
    return True


def still_paired(booth: Booth, generation: str) -> bool:
    """Whether ``booth`` is still usable with the API token named by ``generation``.

    ``generation`` is ``tokens.ticket_generation`` of the token hash the socket's ticket
    was issued for. False once the booth is revoked, or its token rotated or re-paired.
    One query (sync: call it through ``database_sync_to_async``).
    """
    current = Booth.objects.usable().filter(pk=booth.pk).values_list("token_hash", flat=True)
    token_hash = current.first()
    return token_hash is not None and hmac.compare_digest(
        tokens.ticket_generation(token_hash), generation
    )


def close_booth_sockets(booth: Booth) -> None:
    """Close the booth's open sockets (code 4003) once the current transaction commits.

    Outside a transaction the message goes at once. Best effort: if the layer is down,
    the sockets find out at their next re-check (``BOOTHSITE_WS_RECHECK_SECONDS``).
    """
    group = booth_group(booth)

    def push() -> None:
        send_to_group(group, {"type": BOOTH_REVOKED})

    transaction.on_commit(push)
