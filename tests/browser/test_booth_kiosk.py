"""The booth kiosk in headless chromium with a fake webcam showing a real face.

How each screen fits the four target sizes is checked in ``test_kiosk_fit.py``.
"""

from __future__ import annotations

import io
import time
import urllib.request
import zipfile

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import Site, screenshot, write_logo

pytestmark = pytest.mark.browser


def open_booth(page, pairing_url: str) -> None:
    page.goto(pairing_url)
    page.wait_for_selector("#start:not([disabled])")
    deadline = time.monotonic() + 15
    while not page.evaluate("() => document.getElementById('preview').videoWidth > 0"):
        assert time.monotonic() < deadline, "the fake camera never started"
        time.sleep(0.1)


def captures(site: Site) -> list[tuple[str, str]]:
    return site.query("SELECT trigger, render_status FROM captures_capture ORDER BY id")


def test_countdown_snaps_share_by_qr_and_sms(site, pairing_url, browser_for, tmp_path):
    site.set_event(captures_per_session=2, countdown_seconds=2)
    logo = write_logo(tmp_path / "logo.png")
    site.set_logo(logo)
    page = browser_for(smiling=False)
    open_booth(page, pairing_url)
    assert page.inner_text("#event-name") == "Demo Party"
    expect(page.locator("#event-logo")).to_be_visible()
    natural_width = "() => document.getElementById('event-logo').naturalWidth"
    assert page.evaluate(natural_width) == Image.open(logo).width
    page.click("#start")
    page.uncheck("#auto")
    page.click("#snap")
    page.wait_for_selector("#countdown:not([hidden])")
    page.wait_for_selector("#drawer li")
    page.wait_for_selector("#drawer li .variants img")
    page.click("#snap")
    page.wait_for_selector("#share:not([hidden])")
    page.wait_for_selector("#qr svg")
    page.wait_for_selector("#strip-box img.strip-image")
    page.fill("#phone", "07400")
    page.click("#sms-form button")
    expect(page.locator("#sms-status")).to_contain_text("international format")
    page.fill("#phone", "+44 7400 123456")
    page.click("#sms-form button")
    expect(page.locator("#sms-status")).to_contain_text("Sent!")
    assert captures(site) == [("countdown", "ready"), ("countdown", "ready")]
    download = page.get_attribute("#download-all", "href")
    assert download.startswith(site.url + "/s/")
    assert download.endswith("/photos.zip")
    with urllib.request.urlopen(download, timeout=20) as response:  # noqa: S310  (our server)
        body = response.read()
        assert int(response.headers["Content-Length"]) == len(body)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert len(archive.namelist()) == 2 + 2 * 4 + 1  # photos, variants, strip
    guest = page.context.new_page()  # the guest's page links the same ZIP
    guest.goto(page.get_attribute("#share-link", "href"))
    assert guest.get_attribute("#download-all", "href") == download.removeprefix(site.url)
    screenshot(guest, "guest-page")
    guest.close()
    assert site.query("SELECT status FROM captures_strip") == [("ready",)]
    assert site.query("SELECT status, gateway FROM messaging_smsmessage") == [
        ("submitted", "console")
    ]
    page.click("#done")
    page.wait_for_selector("#attract:not([hidden])")
    assert page.locator("#drawer li").count() == 0


def test_upload_made_while_the_server_is_down_arrives_later(site, pairing_url, browser_for):
    site.set_event(captures_per_session=4, countdown_seconds=1)
    page = browser_for(smiling=False)
    open_booth(page, pairing_url)
    page.click("#start")
    page.uncheck("#auto")
    site.stop()
    page.click("#snap")
    page.wait_for_selector("#queue-badge:not([hidden])")
    assert "waiting" in page.inner_text("#queue-badge")
    assert captures(site) == []
    site.start()
    page.reload()  # the snap waited in IndexedDB: nothing is lost on a reload
    deadline = time.monotonic() + 30
    while not captures(site):
        assert time.monotonic() < deadline, "the queued snap never arrived"
        time.sleep(0.2)
    # The kiosk drops the snap from its queue once the upload's answer is in.
    expect(page.locator("#queue-badge")).to_be_hidden(timeout=20_000)
    assert captures(site) == [("countdown", "ready")]
