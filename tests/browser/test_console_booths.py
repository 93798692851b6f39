"""The console's booth pages in chromium: add a booth, pair a kiosk with it, revoke it.

The console and the kiosk are two contexts of one chromium whose webcam plays a real
face; the server is daphne on the embedded defaults, so the revocation's push reaches the
kiosk's socket through the in-memory channel layer of the same process.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import check_fits, screenshot
from tests.browser.test_booth_kiosk import open_booth
from tests.browser.test_console import sign_in

pytestmark = pytest.mark.browser

REVOKED_TEXT = "This booth was unpaired or revoked. Pair it again."


def state(page):
    return page.locator("dt:text-is('State') + dd .booth-state").inner_text()


def test_add_a_booth_pair_a_kiosk_with_it_and_revoke_it(site, browser_for):
    site.manage("seed_demo")
    kiosk = browser_for(smiling=False)
    browser = kiosk.context.browser
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(20_000)
    console = context.new_page()
    sign_in(console, site)
    booths = site.url + "/console/demo/booths/"
    check_fits(console, booths, "console-booth-list")
    console.get_by_role("link", name="Add a booth").click()
    check_fits(console, site.url + "/console/demo/booths/new/", "console-booth-new")
    console.get_by_label("Name").fill("Garden booth")
    console.get_by_label("Event to serve").select_option(label="Demo Party")
    console.get_by_role("button", name="Add booth").click()

    expect(console.get_by_role("heading", name="Pair Garden booth")).to_be_visible()
    code = console.locator("#pairing-code").inner_text()
    link = console.get_by_role("link", name=code, exact=False).get_attribute("href")
    assert link == f"{site.url}/booth/#pair={code}"
    expect(console.get_by_role("img", name="QR code of the pairing link")).to_be_visible()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    console.get_by_role("button", name="Copy the code").click()
    expect(console.locator(".copy-status")).to_have_text("Copied.")
    assert console.evaluate("() => navigator.clipboard.readText()") == code
    check_fits(console, "", "console-booth-pairing", open_page=lambda page: None)

    open_booth(kiosk, link)
    expect(kiosk.locator("#event-name")).to_have_text("Demo Party")
    expect(kiosk.locator("#connection")).to_have_text("Live")
    screenshot(kiosk, "console-booth-kiosk-paired")
    again = browser.new_context().new_page()  # the same link, opened a second time
    again.goto(link)
    expect(again.locator("#pair-error")).to_have_text(
        "This pairing code is invalid, expired or already used."
    )
    again.context.close()

    console.get_by_role("link", name="Done: back to Garden booth").click()
    assert state(console) == "Paired"
    detail = console.url
    check_fits(console, detail, "console-booth-detail")
    console.get_by_role("link", name="Revoke booth…").click()
    check_fits(console, console.url, "console-booth-revoke")
    console.get_by_role("button", name="Revoke booth").click()
    expect(console.locator(".messages")).to_contain_text("Garden booth is revoked")
    assert state(console) == "Revoked"
    assert console.url == detail

    expect(kiosk.locator("#unpaired")).to_be_visible(timeout=10_000)
    expect(kiosk.locator("#pair-error")).to_have_text(REVOKED_TEXT)
    screenshot(kiosk, "console-booth-kiosk-revoked")
    check_fits(console, detail, "console-booth-revoked")
    console.goto(booths)
    row = console.get_by_role("row").filter(has_text="Garden booth")
    expect(row).to_contain_text("Revoked")
    expect(row).to_contain_text("Demo Party")
    context.close()
