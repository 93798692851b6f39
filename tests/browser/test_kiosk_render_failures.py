"""The kiosk says in words when a photo's filters or the strip could not be made (issue 11.3).

The site's broker is down (a closed port), so the uploads answer at once and the renders
wait, pending, as they would for the sweeper. The test then records the failures a
worker would record (``render_status``/``status`` failed) and the kiosk, still polling
the session, shows them.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import free_port, screenshot
from tests.browser.test_booth_kiosk import captures, open_booth

pytestmark = pytest.mark.browser


def test_the_kiosk_says_a_photo_and_its_strip_could_not_be_made(site, pairing_url, browser_for):
    site.set_event(captures_per_session=1, countdown_seconds=1)
    site.stop()
    site.env["CELERY_BROKER_URL"] = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens
    site.start()
    page = browser_for(smiling=False)
    open_booth(page, pairing_url)
    page.click("#start")
    page.uncheck("#auto")
    page.click("#snap")
    page.wait_for_selector("#share:not([hidden])")
    deadline = time.monotonic() + 20
    while site.query("SELECT status FROM captures_strip") != [("pending",)]:
        assert time.monotonic() < deadline, "the session was never finished"
        time.sleep(0.2)
    assert captures(site) == [("countdown", "pending")]
    site.query("UPDATE captures_capture SET render_status = 'failed', render_error = 'X'")
    site.query("UPDATE captures_strip SET status = 'failed', render_error = 'X'")
    expect(page.locator("#strip-box")).to_contain_text("your strip could not be made")
    expect(page.locator("#drawer .shot-note")).to_have_text(
        "The filters could not be made for this photo. The photo itself is saved."
    )
    assert page.locator("#strip-box img").count() == 0  # no broken image for the strip
    screenshot(page, "share-render-failed")
