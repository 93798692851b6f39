"""The console in a real browser: its forms pass the CSRF origin check and reach the kiosk."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, write_logo
from tests.browser.test_booth_kiosk import open_booth

pytestmark = pytest.mark.browser

TRANSFORM = "() => getComputedStyle(document.getElementById('preview')).transform"


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
    site.manage(  # stored as a password hash (issue 11.10), so set through the service
        "shell", "-c", "from events import services; from events.models import Event; "
        "services.set_gallery_passcode(Event.objects.get(), 'smile')",
    )  # fmt: skip
    site.set_event(gallery_visibility="passcode")
    page = browser_for(smiling=False)
    page.goto(gallery.group(1))
    page.fill("#passcode", "smile")
    page.click("form.form button[type=submit]")
    expect(page.locator("main")).to_contain_text("Thank you.")


def save(page) -> None:
    page.click("main form.form button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Saved.")


def test_branding_shows_on_the_kiosk_and_camera_changes_apply_live(
    site, pairing_url, browser_for, tmp_path
):
    kiosk = browser_for(smiling=False)
    console = kiosk.context.new_page()
    sign_in(console, site)
    console.click("text=Demo Party")
    console.click("text=Kiosk branding")
    console.fill("#id_welcome_text", "Welcome to the party!")
    console.set_input_files("#id_logo", write_logo(tmp_path / "logo.png"))
    save(console)
    expect(console.locator(".logo-preview img")).to_be_visible()
    screenshot(console, "console-branding")

    open_booth(kiosk, pairing_url)
    expect(kiosk.locator("#welcome")).to_have_text("Welcome to the party!")
    expect(kiosk.locator("#event-logo")).to_be_visible()
    expect(kiosk.locator("#connection")).to_have_text("Live")
    assert kiosk.evaluate(TRANSFORM) == "matrix(-1, 0, 0, 1, 0, 0)"  # mirrored by default

    console.goto(site.url + "/console/")
    console.click("[aria-label='Camera settings of Demo booth']")
    console.uncheck("#id_camera_mirror")
    console.fill("#id_camera_width", "640")
    console.fill("#id_camera_height", "480")
    save(console)
    screenshot(console, "console-camera")
    kiosk.wait_for_function(TRANSFORM + " === 'none'", timeout=10_000)  # no reload
    assert site.query("SELECT camera_mirror, camera_width FROM events_booth") == [(0, 640)]
