"""What a guest reads on the kiosk: the pairing error and a long welcome (issue 12.8).

The pairing error must read on the kiosk's dark screen (WCAG AA: a contrast ratio of at
least 4.5), and a long welcome text, even one with a word too long for a line, sits in
the middle of the camera picture and of the screen, and fits.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import check_screen, contrast_ratio
from tests.browser.test_booth_kiosk import open_booth

pytestmark = pytest.mark.browser

#: 120 characters, the field's limit, with a 58-letter word no line can hold.
LONG_WELCOME = (
    "Croeso! Welcome to Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch's "
    "summer party: smile and take strips home"
)

_LINES = """() => {
  const welcome = document.getElementById("welcome");
  const range = document.createRange();
  range.selectNodeContents(welcome);
  const middle = (box) => (box.left + box.right) / 2;
  const preview = document.getElementById("preview").getBoundingClientRect();
  const box = welcome.getBoundingClientRect();
  return {
    lines: [...range.getClientRects()].map(middle),
    preview: middle(preview),
    screen: document.documentElement.clientWidth / 2,
    inside: box.left >= preview.left && box.right <= preview.right
      && box.top >= preview.top && box.bottom <= preview.bottom,
  };
}"""


def test_the_pairing_error_reads_on_the_dark_screen_and_fits(site, browser_for):
    page = browser_for(smiling=False)
    page.goto(site.url + "/booth/#pair=not-a-code")
    expect(page.locator("#pair-error")).to_be_visible()
    assert page.inner_text("#pair-error").strip()
    for selector in ("#pair-error", "#unpaired h1", "#unpaired p", "#unpaired label"):
        assert contrast_ratio(page, selector) >= 4.5, selector
    check_screen(
        page, "unpaired-error", ("#unpaired h1", "#pair-code", "#pair-form button", "#pair-error")
    )


def test_a_long_welcome_text_is_centred_and_fits(site, pairing_url, browser_for):
    assert len(LONG_WELCOME) == 120
    site.set_event(welcome_text=LONG_WELCOME)
    page = browser_for(smiling=False)
    open_booth(page, pairing_url)
    assert page.inner_text("#welcome") == LONG_WELCOME

    def centred(page: Any, size: str) -> None:
        found = page.evaluate(_LINES)
        assert len(found["lines"]) > 1, f"{size}: the text is on one line"
        assert abs(found["preview"] - found["screen"]) <= 2, f"{size}: the picture is off-centre"
        for middle in found["lines"]:
            assert abs(middle - found["preview"]) <= 2, f"{size}: a line is off-centre: {found}"
        assert found["inside"], f"{size}: the welcome spills out of the picture"

    check_screen(
        page,
        "attract-long-welcome",
        ("#preview", "#welcome", "#start"),
        apart=("#welcome", "#start"),
        check=centred,
    )
