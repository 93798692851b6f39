"""The console's live monitor in chromium, watching a kiosk in another browser context.

The monitor page is signed in to the console in one context; the kiosk, with its fake
webcam showing a real smiling face, runs in another (its own cookies and storage). The
monitor must show the booth come online, its smiles, the capture once it is rendered,
and the booth go offline when the kiosk closes, all without a reload.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import check_fits
from tests.browser.test_booth_kiosk import open_booth
from tests.browser.test_console import sign_in

pytestmark = pytest.mark.browser


def test_the_monitor_shows_a_kiosk_live(site, pairing_url, browser_for):
    site.set_event(captures_per_session=1)
    kiosk = browser_for(smiling=True)
    console = kiosk.context.browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    console.set_default_timeout(20_000)
    sign_in(console, site)
    console.goto(site.url + "/console/demo/monitor/")
    card = console.locator(".monitor-booth").filter(has_text="Demo booth")
    expect(console.locator("#monitor-connection")).to_have_text("Live")
    expect(card.locator("[data-field=presence]")).to_have_text("Offline")

    open_booth(kiosk, pairing_url)
    expect(card.locator("[data-field=presence]")).to_have_text("Online")
    expect(card.locator("[data-field=pending]")).to_have_text("0")  # the kiosk's report
    kiosk.click("#start")  # auto mode: the smile snaps by itself
    expect(card.locator("[data-field=score]")).not_to_have_text("—")
    expect(card.locator("[data-field=spark] span").first).to_be_attached()
    photo = console.locator("#monitor-captures .monitor-capture img")
    expect(photo).to_have_count(1, timeout=40_000)
    expect(card.locator("[data-field=last_capture] img")).to_be_visible()
    assert console.evaluate("(img) => img.naturalWidth", photo.element_handle()) > 0
    assert site.query("SELECT trigger, render_status FROM captures_capture") == [("smile", "ready")]

    check_fits(console, "", "console-monitor", open_page=lambda page: None)  # no reload
    kiosk.context.close()
    expect(card.locator("[data-field=presence]")).to_have_text("Offline")
    expect(card).to_have_attribute("data-online", "false")
