"""Every kiosk screen fits a kiosk's screen without scrolling (issue 12.6).

One whole session per strip-layout configuration (``horizontal_4``, ``classic_2x6``, and
both at once); at each screen the viewport is resized through the four target sizes
(``check_screen``), so the session is not run again per size. The get-ready and the
snap countdowns are held still (Playwright's clock) while they are looked at.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.browser.conftest import check_screen, write_logo
from tests.browser.test_booth_kiosk import open_booth

pytestmark = pytest.mark.browser

LAYOUTS = {
    "horizontal_4": ["horizontal_4"],
    "classic_2x6": ["classic_2x6"],
    "two-layouts": ["horizontal_4", "classic_2x6"],
}
STAGE = ("#preview", "#live-controls", "#booth-status", "#drawer")
CONTROLS = ("#preview", ".meter", "#auto", "#snap", "#shots-left")


@contextmanager
def clock_held(page: Any) -> Iterator[None]:
    """Hold the page's timers (its countdowns) still inside the block, then let them run.

    ``pause_at`` refuses a time already past, and the page's clock runs on between
    reading it and pausing (by more than a millisecond on a loaded machine): each retry
    pauses a little further ahead, never as far as a count's next one-second step.
    """
    for ahead in (0.001, 0.02, 0.05, 0.1, 0.2):
        try:
            page.clock.pause_at(page.evaluate("Date.now()") / 1000 + ahead)
            break
        except PlaywrightError as exc:
            if "to the past" not in str(exc) or ahead == 0.2:
                raise
    try:
        yield
    finally:
        page.clock.resume()


def snap(page: Any, shots: int) -> None:
    page.click("#snap")
    expect(page.locator("#drawer > li")).to_have_count(shots)


@pytest.mark.parametrize("layouts", LAYOUTS)
def test_every_kiosk_screen_fits_at_each_size(site, pairing_url, browser_for, tmp_path, layouts):
    site.set_event(
        captures_per_session=4, countdown_seconds=1, strip_layouts=json.dumps(LAYOUTS[layouts])
    )
    site.set_logo(write_logo(tmp_path / "logo.png"))
    page = browser_for(smiling=False)
    page.clock.install()
    open_booth(page, pairing_url)
    check_screen(
        page,
        f"attract-{layouts}",
        ("#preview", "#event-logo", "#welcome", "#start"),
        apart=("#event-logo", "#welcome", "#start"),
    )
    with clock_held(page):  # the count shows its first step and waits there
        page.click("#start")
        expect(page.locator("#countdown-label")).to_have_text("Get ready")
        check_screen(page, f"get-ready-{layouts}", (*CONTROLS, "#countdown-number"), apart=STAGE)
    expect(page.locator("#countdown")).to_be_hidden()
    check_screen(page, f"live-{layouts}", CONTROLS, apart=STAGE)
    page.uncheck("#auto")
    with clock_held(page):
        page.click("#snap")
        expect(page.locator("#countdown-number")).to_have_text("1")
        check_screen(page, f"countdown-{layouts}", (*CONTROLS, "#countdown-number"), apart=STAGE)
    expect(page.locator("#drawer > li")).to_have_count(1)
    snap(page, 2)
    snap(page, 3)
    expect(page.locator("#drawer > li > .variants")).to_have_count(3)
    check_screen(page, f"drawer-{layouts}", (*CONTROLS, "#drawer > li"), apart=STAGE)
    page.click("#snap")
    page.wait_for_selector("#share:not([hidden])")
    expect(page.locator("#strip-box img.strip-image")).to_have_count(len(LAYOUTS[layouts]))
    expect(page.locator("#share-drawer img")).to_have_count(4)
    page.fill("#phone", "07400")
    page.click("#sms-form button")
    expect(page.locator("#sms-status")).to_contain_text("international format")
    for strip in page.locator("#strip-box img.strip-image").all():
        expect(strip).to_have_js_property("complete", True)
    parts = ("#qr svg", "#strip-box img.strip-image", "#phone", "#sms-form button", "#sms-status")
    check_screen(
        page,
        f"share-{layouts}",
        (*parts, "#download-all", "#share-link", "#done", "#share-drawer img"),
        apart=(*parts, ".share-actions", "#done", "#share-drawer"),
    )
