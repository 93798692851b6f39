"""Console and guest forms in a real browser: they must pass Django's CSRF origin check."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def sign_in(page, site) -> None:
    page.goto(site.url + "/console/login/")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "boothsite-demo")
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/console/")


def test_organiser_signs_in(site, pairing_url, browser_for):
    page = browser_for(smiling=False)
    sign_in(page, site)
    expect(page.locator("h1")).to_have_text("Your events")


def test_guest_opens_a_passcode_gallery(site, browser_for):
    out = site.manage("seed_demo")
    gallery = re.search(r"Event gallery:\s+(\S+)", out)
    assert gallery, out
    site.set_event(gallery_visibility="passcode", gallery_passcode="smile")
    page = browser_for(smiling=False)
    page.goto(gallery.group(1))
    page.fill("#passcode", "smile")
    page.click("form.form button[type=submit]")
    expect(page.locator("main")).to_contain_text("Thank you.")
