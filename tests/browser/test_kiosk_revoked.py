"""A kiosk whose booth is revoked mid-session shows "unpaired or revoked".

The socket closes with 4003; the kiosk asks ``me/``, gets 401 and shows its unpaired
screen instead of reconnecting for ever.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_booth_kiosk import open_booth

pytestmark = pytest.mark.browser


def test_a_revoked_booth_shows_the_unpaired_screen(site, pairing_url, browser_for):
    page = browser_for(smiling=False)
    open_booth(page, pairing_url)
    page.click("#start")
    expect(page.locator("#connection")).to_have_text("Live")
    # Another process, as the console: the in-memory layer cannot carry the push, so the
    # socket's re-check (BOOTHSITE_WS_RECHECK_SECONDS, 5 s) finds the revocation.
    site.manage(
        "shell",
        "-c",
        "from events import services; from events.models import Booth; "
        "services.revoke_booth(Booth.objects.get())",
    )
    expect(page.locator("#unpaired")).to_be_visible(timeout=20_000)
    expect(page.locator("#pair-error")).to_have_text(
        "This booth was unpaired or revoked. Pair it again."
    )
    assert page.locator("#unpaired").is_visible()
    assert page.locator("#pair-error").inner_text() == (
        "This booth was unpaired or revoked. Pair it again."
    )
    # The kiosk dropped the revoked credentials instead of reconnecting with them.
    assert page.evaluate("() => localStorage.getItem('boothsite.booth_token')") is None
