"""A local HTTPS stand-in for Vonage's SMS API, for the real SDK to talk to.

The certificate comes from a throwaway ``trustme`` CA; tests point ``REQUESTS_CA_BUNDLE``
at it (this machine sets that variable globally, so it must be overridden) and
``VONAGE_REST_HOST`` at the stub. Each request takes the next scripted behaviour.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import trustme

OK = ("status", "0")


class VonageStub:
    """HTTPS server on 127.0.0.1 answering ``POST /sms/json`` as scripted.

    Behaviours: ``("status", "N")`` answers HTTP 200 with message status N;
    ``("http", 429)`` answers that HTTP status; ``("drop",)`` reads the request and
    closes the connection without answering; ``("hang", seconds)`` answers nothing for
    that long. With nothing scripted it accepts the message (status 0). ``GET`` (the
    account's balance, ``/account/get-balance``) takes the same script: ``("http", N)``,
    ``("drop",)`` and ``("hang", s)`` as above, anything else a balance of 10.00.
    """

    def __init__(self, folder: Path) -> None:
        ca = trustme.CA()
        self.ca_file = folder / "vonage-stub-ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self.script: deque[tuple[Any, ...]] = deque()
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                with stub.lock:
                    stub.requests.append(
                        {
                            "path": self.path,
                            "form": form,
                            "headers": dict(self.headers),
                            "at": time.time(),
                        }
                    )
                    behaviour = stub.script.popleft() if stub.script else OK
                stub.respond(self, form, behaviour)

            def do_GET(self) -> None:
                with stub.lock:
                    stub.requests.append(
                        {
                            "path": self.path,
                            "form": {},
                            "headers": dict(self.headers),
                            "at": time.time(),
                        }
                    )
                    behaviour = stub.script.popleft() if stub.script else OK
                if behaviour[0] == "status":
                    body = json.dumps({"value": 10.0, "autoReload": False}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                stub.respond(self, {}, behaviour)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def respond(
        self, handler: BaseHTTPRequestHandler, form: dict[str, str], behaviour: tuple[Any, ...]
    ) -> None:
        kind = behaviour[0]
        if kind == "drop":
            handler.close_connection = True
            handler.connection.close()
            return
        if kind == "hang":
            time.sleep(behaviour[1])
            handler.close_connection = True
            return
        if kind == "http":
            handler.send_response(behaviour[1])
            handler.send_header("Content-Type", "application/json")
            handler.end_headers()
            handler.wfile.write(b'{"error": "stub"}')
            return
        status = behaviour[1]
        message: dict[str, str] = {"to": form.get("to", ""), "status": status}
        if status == "0":
            message |= {
                "message-id": uuid.uuid4().hex[:16].upper(),
                "remaining-balance": "10.00",
                "message-price": "0.03330000",
                "network": "23410",
            }
            if "client-ref" in form:
                message["client-ref"] = form["client-ref"]
        else:
            message["error-text"] = f"Stub error {status}"
        body = json.dumps({"message-count": "1", "messages": [message]}).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
