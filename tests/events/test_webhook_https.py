"""HTTPS webhook deliveries (issue 15.3): pinned to the checked address, certificate verified.

The receiver serves TLS with a certificate from a throwaway ``trustme`` CA for
``hooks.example.com``; the name "resolves" to 127.0.0.1 (``webhooks.resolve_host``
patched), so the connection goes to the checked address while SNI and the certificate
check use the URL's name.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import trustme
from standardwebhooks.webhooks import Webhook

from events import webhooks
from events.models import WebhookDelivery


@pytest.fixture
def tls_receiver(monkeypatch, settings) -> Iterator[tuple[int, list[tuple[dict[str, str], bytes]]]]:
    settings.BOOTHSITE_WEBHOOK_ALLOW_PRIVATE = True
    ca = trustme.CA()
    received: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("hooks.example.com").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)

    def trusting() -> ssl.SSLContext:
        client = ssl.create_default_context()
        ca.configure_trust(client)
        return client

    monkeypatch.setattr(webhooks, "tls_context", trusting)
    monkeypatch.setattr(webhooks, "resolve_host", lambda host, port: ["127.0.0.1"])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], received
    finally:
        server.shutdown()
        server.server_close()


def test_an_https_delivery_verifies_the_certificate_of_the_urls_name(tls_receiver, tenant_a):
    port, received = tls_receiver
    endpoint = webhooks.create_endpoint(
        tenant_a.organiser,
        url=f"https://hooks.example.com:{port}/in",
        event_types=["strip.ready"],
    )
    delivery = webhooks.queue_delivery(
        endpoint, "strip.ready", webhooks.build_payload("strip.ready", {"strip": "s"})
    )
    webhooks.attempt_delivery(delivery.pk, 1)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_status) == (WebhookDelivery.Status.SUCCEEDED, 204)
    [(headers, body)] = received
    assert Webhook(endpoint.secret).verify(body, headers)["data"] == {"strip": "s"}


def test_a_certificate_for_another_name_is_a_recorded_failure(tls_receiver, tenant_a):
    port, received = tls_receiver
    endpoint = webhooks.create_endpoint(
        tenant_a.organiser, url=f"https://other.example.com:{port}/", event_types=["strip.ready"]
    )
    delivery = webhooks.queue_delivery(endpoint, "strip.ready", {})
    webhooks.attempt_delivery(delivery.pk, 1)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.response_status is None
    assert delivery.error.startswith("TLS error")
    assert received == []
