"""A kiosk paired before a restart is still paired after it (issue 12.2).

``bin/run`` runs ``seed_demo`` on every start. That must not rotate the booth's token:
the kiosk keeps the token it got from its pairing link, and after the server is back
it goes on working without being paired again.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.browser.test_booth_kiosk import captures, open_booth

pytestmark = pytest.mark.browser

TOKEN = "() => localStorage.getItem('boothsite.booth_token')"
#: The first smile score reached the kiosk: the server's scoring workers are up.
SCORED = "() => document.getElementById('meter-fill').style.width.endsWith('%')"


def test_a_kiosk_paired_before_a_restart_still_works_after_it(site, pairing_url, browser_for):
    site.set_event(captures_per_session=1, countdown_seconds=1)
    page = browser_for(smiling=False)
    open_booth(page, pairing_url)
    token = page.evaluate(TOKEN)
    assert token.startswith("bth_")
    page.click("#start")
    expect(page.locator("#connection")).to_have_text("Live")
    # A daphne sent SIGTERM while its scoring workers still start hangs (captures/scoring.py;
    # Ctrl-C, which reaches the workers too, does not): stop it once they score.
    page.wait_for_function(SCORED)
    # What bin/run does when it is started again: the server stops, seed_demo runs.
    site.stop()
    site.manage("seed_demo")
    site.start()
    page.reload()
    page.wait_for_selector("#start:not([disabled])")
    assert page.locator("#unpaired").is_hidden()
    assert page.evaluate(TOKEN) == token
    page.click("#start")
    expect(page.locator("#connection")).to_have_text("Live")
    page.uncheck("#auto")
    page.click("#snap")
    deadline = time.monotonic() + 30
    while not captures(site):
        assert time.monotonic() < deadline, "the snap after the restart never arrived"
        time.sleep(0.2)
    assert captures(site)[0][0] == "countdown"
