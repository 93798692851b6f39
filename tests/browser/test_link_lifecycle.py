"""A rotated gallery link in Chromium: the organiser makes a new one, the old one says 410.

The organiser opens the event's gallery settings in the console, presses "Make a new
gallery link", and the old link then answers 410 with the friendly "this link has
ended" page (screenshots at 390x844 and 1280x800, axe-core: nothing serious or
critical), while the new link opens the gallery.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_problems, check_fits
from tests.browser.test_console import sign_in

pytestmark = pytest.mark.browser

SETTINGS = "/console/demo/demo-party/gallery/"


def test_a_rotated_gallery_link_answers_410_with_a_friendly_page(site, pairing_url, browser_for):
    seeded = re.search(r"Event gallery:\s+(\S+)", site.manage("seed_demo"))
    assert seeded
    old_link = seeded.group(1)
    page = browser_for(smiling=False)
    assert page.goto(old_link).status == 200

    sign_in(page, site)
    page.goto(site.url + SETTINGS)
    link = page.locator(".gallery-link a.url")
    expect(link).to_have_text(old_link)
    check_fits(page, site.url + SETTINGS, "gallery-link-settings")
    assert axe_problems(page) == []
    page.get_by_role("button", name="Make a new gallery link").click()
    expect(page.locator(".messages")).to_contain_text("The gallery has a new link")
    new_link = page.locator(".gallery-link a.url").inner_text()
    assert new_link != old_link

    statuses = check_fits(page, old_link, "gallery-link-gone")
    assert statuses == [410, 410]
    expect(page.locator("h1")).to_have_text("This gallery link has ended")
    expect(page.locator(".error-box")).to_contain_text("ask the organiser for the new link")
    expect(page.locator("body")).not_to_contain_text("Demo Party")
    for width, height in ((390, 844), (1280, 800)):
        page.set_viewport_size({"width": width, "height": height})
        assert axe_problems(page) == [], f"axe at {width}x{height}"
    assert page.goto(new_link).status == 200
