"""Auto mode in the kiosk: a real smiling face snaps by itself, a neutral one never does."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.browser.test_booth_kiosk import captures, open_booth

pytestmark = pytest.mark.browser


def test_smile_snaps_without_a_click(site, pairing_url, browser_for):
    site.set_event(captures_per_session=1)
    page = browser_for(smiling=True)
    open_booth(page, pairing_url)
    page.click("#start")
    page.wait_for_selector("#share:not([hidden])", timeout=30_000)
    page.wait_for_selector("#strip-box img.strip-image")
    assert captures(site) == [("smile", "ready")]
    assert site.query("SELECT COUNT(*) FROM captures_capturevariant") == [(4,)]


def test_neutral_face_does_not_snap(site, pairing_url, browser_for):
    page = browser_for(smiling=False)
    open_booth(page, pairing_url)
    page.click("#start")
    expect(page.locator("#connection")).to_have_text("Live")
    time.sleep(10)
    assert captures(site) == []
    assert page.locator("#drawer li").count() == 0
