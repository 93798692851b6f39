"""The kiosk's Idempotency-Key: one per action, kept in the offline queue (RELIABILITY 10).

An upload reaches the server, but its answer is lost on the way back (the connection
drops). The kiosk queues it and sends it again later: with the same key, so the server
answers with the first result and stores the photo once.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.browser.test_booth_kiosk import captures, open_booth

pytestmark = pytest.mark.browser


def test_upload_whose_answer_was_lost_is_resent_with_its_key_and_stored_once(
    site, pairing_url, browser_for
):
    site.set_event(captures_per_session=4, countdown_seconds=1)
    page = browser_for(smiling=False)
    open_booth(page, pairing_url)
    keys: list[str] = []

    def lose_the_first_answer(route) -> None:
        keys.append(route.request.headers.get("idempotency-key", ""))
        if len(keys) == 1:
            route.fetch()  # the server stores the photo ...
            route.abort("connectionreset")  # ... and the kiosk never hears back
        else:
            route.continue_()

    page.route("**/api/v1/booth/sessions/*/captures/", lose_the_first_answer)
    page.click("#start")
    page.uncheck("#auto")
    page.click("#snap")
    page.wait_for_selector("#queue-badge:not([hidden])")
    assert len(captures(site)) == 1  # stored once already
    page.reload()  # the queued upload is sent again from IndexedDB
    deadline = time.monotonic() + 30
    while len(keys) < 2:
        assert time.monotonic() < deadline, "the queued upload was never sent again"
        page.wait_for_timeout(200)  # not time.sleep: the route handler runs in this thread
    expect(page.locator("#queue-badge")).to_be_hidden()
    assert keys[0] != ""
    assert keys[1] == keys[0]
    assert len(captures(site)) == 1
