"""The kiosk's share screen sends the link by email (issue 14.5), in a real browser.

A guest finishes a one-photo session, switches the share screen from text to email,
types a bad address (the booth says why), then a good one. The embedded site's console
email backend prints the message to daphne's log, which the test reads: the subject,
the link and the inline strip. The share screen is shot in email mode at 390x844 and
1280x800 and still fits every kiosk size; the console's email page masks the address
and passes axe at the phone and laptop sizes.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    PAGE_VIEWPORTS,
    Site,
    axe_problems,
    check_fits,
    check_screen,
    screenshot,
)
from tests.browser.test_booth_kiosk import open_booth
from tests.browser.test_console import sign_in

pytestmark = pytest.mark.browser

ADDRESS = "Guest.Name@Example.COM"
EMAIL_PAGE = "/console/demo/demo-party/email/"


def printed_email(site: Site) -> str:
    """Return the share email the console backend printed to daphne's log."""
    deadline = time.monotonic() + 15
    while True:
        log = (site.folder / "daphne.log").read_text(errors="replace")
        start = log.rfind("Subject: Your photos from")
        if start != -1 and "Content-ID: <strip@boothsite>" in log[start:]:
            return log[start:]
        assert time.monotonic() < deadline, "no share email in the log: " + log[-2000:]
        time.sleep(0.2)


def test_guest_gets_the_link_by_email(site, pairing_url, browser_for):
    site.set_event(captures_per_session=1, countdown_seconds=1)
    page = browser_for(smiling=False)
    open_booth(page, pairing_url)
    page.click("#start")
    page.uncheck("#auto")
    page.click("#snap")
    page.wait_for_selector("#share:not([hidden])")
    page.wait_for_selector("#strip-box img.strip-image")
    expect(page.locator("#email-share")).to_be_hidden()
    page.get_by_role("button", name="or by email").click()
    expect(page.locator("#sms-share")).to_be_hidden()
    expect(page.get_by_label("Or get the link by email")).to_be_focused()
    page.fill("#email", "guest@")
    page.click("#email-form button[type=submit]")
    expect(page.locator("#email-status")).to_contain_text("valid email address")
    page.fill("#email", ADDRESS)
    page.click("#email-form button[type=submit]")
    expect(page.locator("#email-status")).to_have_text("Sent! Check your inbox.")
    assert page.input_value("#email") == ""  # not left on screen for the next guest

    message = printed_email(site)
    share_link = page.get_attribute("#share-link", "href")
    assert share_link
    assert "To: Guest.Name@example.com" in message
    assert share_link in message
    assert "multipart/related" in log_head(site)
    assert site.query("SELECT status, attempts FROM messaging_emailmessage") == [("sent", 1)]

    for label in PAGE_VIEWPORTS:
        width, height = PAGE_VIEWPORTS[label]
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(150)
        screenshot(page, f"kiosk-share-email-{label}")
    parts = ("#qr svg", "#strip-box img.strip-image", "#email", "#email-form button[type=submit]")
    check_screen(
        page,
        "share-email",
        (*parts, "#email-status", "#download-all", "#share-link", "#done"),
        apart=(*parts, "#email-status", ".share-actions", "#done"),
    )
    page.get_by_role("button", name="or by text").click()
    expect(page.locator("#phone")).to_be_focused()
    page.click("#done")
    expect(page.locator("#attract")).to_be_visible()
    assert page.input_value("#email") == ""

    console = browser_for(smiling=False)
    sign_in(console, site)
    check_fits(console, site.url + EMAIL_PAGE, "console-event-email")
    problems = []
    for label, (width, height) in PAGE_VIEWPORTS.items():
        console.set_viewport_size({"width": width, "height": height})
        console.goto(site.url + EMAIL_PAGE)
        expect(console.locator(".email-ledger")).to_contain_text("G***@e***.com")
        assert "guest.name" not in console.content().lower()
        problems += axe_problems(console, f"console email page at {label}")
    assert problems == []


def log_head(site: Site) -> str:
    log = (site.folder / "daphne.log").read_text(errors="replace")
    match = re.search(r"Content-Type: multipart/related[^\n]*", log)
    return match.group(0) if match else ""
