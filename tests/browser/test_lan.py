"""LAN mode: the kiosk over https on the laptop's LAN address, in Chromium (issue 12.3).

The server is daphne on the TLS endpoint ``bin/run --lan`` builds (``boothsite.lan``:
the machine's LAN address when it has one, its certificate made by a local CA), with
``SITE_URL`` on that https origin. Chromium trusts that one certificate only, by its
public key's hash (``--ignore-certificate-errors-spki-list``), so a page on the origin
is a secure context and gets the (fake) camera. The kiosk pairs with the one-time link
seed_demo prints, snaps, and the capture lands; the links it shows and the QR code a
guest scans are on the https origin; the console signs in over it (CSRF, cookies).
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from boothsite import lan
from tests.browser.conftest import (
    CHROMIUM,
    ROOT,
    Site,
    free_port,
    genki_photo,
    screenshot,
    site_env,
    write_y4m,
)
from tests.browser.test_booth_kiosk import captures, open_booth

pytestmark = pytest.mark.browser


def lan_host() -> str:
    """The machine's LAN address if it has one that can be served on, else 127.0.0.1."""
    try:
        address = lan.lan_address()
        with socket.socket() as probe:
            probe.bind((address, 0))
    except (lan.LanError, OSError):
        return "127.0.0.1"
    return address


class LanSite(Site):
    """The ``site`` of the other browser tests, served the way ``bin/run --lan`` does."""

    certificate: lan.LanCertificate

    @property
    def url(self) -> str:
        return lan.site_url(self.certificate.host, self.port)

    def start(self) -> None:
        log = (self.folder / "daphne.log").open("ab")
        endpoint = lan.daphne_endpoint(self.certificate, self.port)
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "daphne", "-e", endpoint, "boothsite.asgi:application"],
            cwd=ROOT,
            env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        context = ssl.create_default_context(cafile=str(self.certificate.ca))
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"{self.url}/booth/", context=context, timeout=2):  # noqa: S310
                    return
            except OSError:
                time.sleep(0.1)
        pytest.fail("daphne did not serve https: " + (self.folder / "daphne.log").read_text())


@pytest.fixture
def lan_site(tmp_path: Path) -> Iterator[LanSite]:
    host, port = lan_host(), free_port()
    certificate = lan.ensure_certificate(host, tmp_path / "lan-tls")
    origin = lan.site_url(host, port)
    # As bin/run --lan: the embedded defaults with DEBUG off.
    env = site_env(
        tmp_path, port, DEBUG="false", BOOTHSITE_EMBEDDED="true", SITE_URL=origin,
        ALLOWED_HOSTS=f"{host},127.0.0.1,localhost",
    )  # fmt: skip
    site = LanSite(tmp_path, port, env)
    site.certificate = certificate
    site.manage("migrate", "--noinput")
    site.start()
    yield site
    site.stop()


@pytest.fixture
def lan_browser(lan_site: LanSite, tmp_path: Path) -> Iterator[Any]:
    """A chromium that trusts the LAN certificate (only it) and films a neutral face."""
    from playwright.sync_api import sync_playwright

    camera = write_y4m(genki_photo(smiling=False), tmp_path / "camera.y4m")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={camera}",
                f"--ignore-certificate-errors-spki-list={lan_site.certificate.spki_sha256}",
            ],
        )  # fmt: skip
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(20_000)
        yield context
        browser.close()


def qr_payload(page: Any) -> str:
    """Decode the QR code on the share screen as a guest's phone would (OpenCV)."""
    cv2 = pytest.importorskip("cv2")
    import numpy as np

    png = page.locator("#qr svg").screenshot()
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    image = cv2.copyMakeBorder(image, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=255)
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    return str(text)


def test_the_kiosk_works_over_https_on_the_lan_address(lan_site, lan_browser):
    origin = lan_site.url
    assert origin.startswith("https://")
    out = lan_site.manage("seed_demo")
    lan_site.set_event(captures_per_session=1, countdown_seconds=1)
    pairing = next(line.split()[-1] for line in out.splitlines() if line.startswith("Booth page:"))
    assert pairing.startswith(f"{origin}/booth/#pair=pair_")
    page = lan_browser.new_page()
    open_booth(page, pairing)  # paired, and the camera plays: a secure context
    assert page.evaluate("() => window.isSecureContext && location.protocol") == "https:"
    page.click("#start")
    expect(page.locator("#connection")).to_have_text("Live")  # wss:// through the same TLS
    page.uncheck("#auto")
    page.click("#snap")
    deadline = time.monotonic() + 30
    while not captures(lan_site):
        assert time.monotonic() < deadline, "the capture never landed"
        time.sleep(0.2)
    page.wait_for_selector("#share:not([hidden])")
    page.wait_for_selector("#qr svg")
    assert captures(lan_site) == [("countdown", "ready")]
    share = page.get_attribute("#share-link", "href")
    assert share.startswith(f"{origin}/s/")
    assert page.get_attribute("#download-all", "href").startswith(f"{origin}/s/")
    assert qr_payload(page) == share
    screenshot(page, "lan-share")
    guest = lan_browser.new_page()
    guest.goto(share)
    expect(guest.locator("body")).to_contain_text("Demo Party")
    guest.close()


def test_the_console_signs_in_over_https_on_the_lan_address(lan_site, lan_browser):
    lan_site.manage("seed_demo")
    page = lan_browser.new_page()
    page.goto(f"{lan_site.url}/console/login/")
    page.fill("input[name=username]", "demo")
    page.fill("input[name=password]", "boothsite-demo")
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{lan_site.url}/console/")
    cookies = {cookie["name"]: cookie for cookie in lan_browser.cookies(lan_site.url)}
    assert {"sessionid", "csrftoken"} <= set(cookies)
