"""The seed's own front end, served from another origin, posts to /compat/…/send-mms.

A page on a tiny ``http.server`` (another port, so another origin) draws a GENKI-4K
photo into a 640x480 canvas and runs the seed's ``fetch`` exactly: a JSON POST, which
makes Chromium send a CORS preflight first. The demo organiser lists that origin in
``compat_origins``, so the preflight and the POST are answered and the page reads
``{"status": "success"}``; a second page server on an unlisted origin is blocked by the
browser before its POST is sent, so no SMS is queued for it.
"""

from __future__ import annotations

import http.server
import json
import re
import sqlite3
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM, Site, free_port, genki_photo, screenshot

# The seed front end's request, as its browser code writes it; the result goes in #result.
PAGE = """<!doctype html>
<meta charset="utf-8">
<title>Seed front end</title>
<canvas id="canvas" width="640" height="480"></canvas>
<pre id="result">pending</pre>
<script>
const url = %(url)s;
const phone = %(phone)s;
const photo = new Image();
photo.onload = () => {
  const canvas = document.getElementById("canvas");
  const context = canvas.getContext("2d");
  context.fillStyle = "#786e64";
  context.fillRect(0, 0, 640, 480);
  context.drawImage(photo, 140, 60, 360, 360);
  fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ phone, image: canvas.toDataURL() }),
  })
    .then((response) => response.json())
    .then((data) => { document.getElementById("result").textContent = JSON.stringify(data); })
    .catch((error) => { document.getElementById("result").textContent = "blocked: " + error; });
};
photo.src = "photo.jpg";
</script>
"""


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def page_server(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve ``folder`` on 127.0.0.1 at a free port; return the server and its origin."""
    port = free_port()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), partial(Quiet, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{port}"


@pytest.fixture
def demo_token(site: Site) -> str:
    match = re.search(r"Booth token:\s+(bth_\S+)", site.manage("seed_demo"))
    assert match, "seed_demo printed no booth token on its first run"
    return match.group(1)


@pytest.fixture
def pages(tmp_path: Path, site: Site, demo_token: str) -> Iterator[dict[str, str]]:
    """The seed's page on two servers: ``allowed`` (a demo organiser's origin), ``other``."""
    folder = tmp_path / "seed-front-end"
    folder.mkdir()
    (folder / "photo.jpg").write_bytes(genki_photo(smiling=True).read_bytes())
    send_mms = json.dumps(f"{site.url}/compat/{demo_token}/send-mms")
    (folder / "send.html").write_text(PAGE % {"url": send_mms, "phone": '"447400123456"'})
    servers = {"allowed": page_server(folder), "other": page_server(folder)}
    with sqlite3.connect(site.folder / "db.sqlite3") as db:  # as the admin would save it
        db.execute(
            "UPDATE events_organiser SET compat_origins = ? WHERE slug = 'demo'",
            (json.dumps([servers["allowed"][1]]),),
        )
    yield {name: f"{origin}/send.html" for name, (_, origin) in servers.items()}
    for server, _ in servers.values():
        server.shutdown()
        server.server_close()


@pytest.fixture
def page() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update"],
        )  # fmt: skip
        context = browser.new_context(viewport={"width": 800, "height": 600})
        context.set_default_timeout(30_000)
        yield context.new_page()
        browser.close()


def sms_count(site: Site) -> int:
    return int(site.query("SELECT count(*) FROM messaging_smsmessage")[0][0])


def test_the_seed_front_end_on_a_configured_origin_sends(site, pages, page):
    page.goto(pages["other"])
    page.wait_for_function("document.getElementById('result').textContent !== 'pending'")
    assert page.text_content("#result").startswith("blocked: TypeError")
    assert sms_count(site) == 0  # the browser never sent the POST: its preflight failed
    page.goto(pages["allowed"])
    page.wait_for_function("document.getElementById('result').textContent !== 'pending'")
    screenshot(page, "compat-seed-front-end")
    result = json.loads(page.text_content("#result"))
    assert result == {"status": "success", "message": "Your photo is on its way by SMS."}
    assert sms_count(site) == 1
    assert site.query("SELECT width, height FROM captures_capture") == [(640, 480)]
    log = (site.folder / "daphne.log").read_text()
    requests = re.findall(r'"(\w+) /compat/<redacted>/send-mms" (\d+)', log)
    assert requests == [("OPTIONS", "204"), ("OPTIONS", "204"), ("POST", "202")]
    assert "Traceback" not in log
