"""WebSocket authentication for booths: a signed ticket in the subprotocol header."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware

from events import access
from events.models import Booth

PROTOCOL = "boothsite.v1"
TICKET_PREFIX = "ticket."


def ticket_from_subprotocols(subprotocols: list[str]) -> str | None:
    """Return the ticket of ``["boothsite.v1", "ticket.<ticket>"]``, or None."""
    for protocol in subprotocols:
        if protocol.startswith(TICKET_PREFIX):
            return protocol[len(TICKET_PREFIX) :]
    return None


@database_sync_to_async
def _booth_for(ticket: str) -> Booth | None:
    return access.access_booth_by_ticket(ticket)


class BoothTicketAuthMiddleware(BaseMiddleware):
    """Set ``scope["booth"]`` from the ticket subprotocol (None when absent or invalid).

    Invalid covers forged, expired and malformed tickets, a revoked booth, and a ticket
    issued for an earlier API token of the booth (``access.access_booth_by_ticket``);
    the consumer then refuses the handshake (403). A token in the query string is never
    read: query strings end up in logs.
    """

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        scope = dict(scope)
        ticket = ticket_from_subprotocols(list(scope.get("subprotocols") or []))
        scope["booth"] = await _booth_for(ticket) if ticket else None
        return await super().__call__(scope, receive, send)
