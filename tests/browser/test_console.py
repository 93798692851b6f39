"""The console in a real browser: its forms pass the CSRF origin check and reach the kiosk."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import check_fits, screenshot, write_logo
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
    expect(page.locator("h1")).to_have_text("Demo Organiser")  # its only organiser's home


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


#: A failed SMS for the ledger page: refused by the carrier (delivery receipt err-code 6).
FAILED_SMS = """
from captures import services as captures
from events.models import Booth
from messaging import services as messaging
from tests import factories
booth = Booth.objects.get(name="Demo booth")
session = captures.start_session(booth)
captures.record_capture(session, factories.image_bytes("PNG", (640, 480)))
sms = messaging.queue_share_sms(booth, session, "+447400123401")
messaging.send_sms_message(sms)
messaging.apply_delivery_receipt(sms.callback_token, {"status": "failed", "err-code": "6"})
"""


LONG_NAME = "Summer garden party of the Marketing and Communications department, 2026"


def console_pages(site) -> dict[str, str]:
    """Every console page of the demo organiser, by screenshot name."""
    ((booth_id,),) = site.query("SELECT public_id FROM events_booth")
    booth = "-".join(
        (booth_id[:8], booth_id[8:12], booth_id[12:16], booth_id[16:20], booth_id[20:])
    )
    event = "/console/demo/demo-party/"
    return {
        "console-home": "/console/",
        "console-demo-home": "/console/demo/",
        "console-demo-team": "/console/demo/team/",
        "console-event": event,
        "console-branding": event + "branding/",
        "console-camera": f"/console/demo/booths/{booth}/camera/",
        "console-sms": event + "sms/",
        "console-erase-number": "/console/demo/privacy/erase-number/",
    }


def test_every_console_page_fits_a_phone(site, pairing_url, browser_for):
    """No console page scrolls sideways on a 390 px phone (issue 12.8), nor on a laptop.

    The gallery token has no hyphen (a browser may break a line at one), so its link is
    one long word, as in the issue; the event's name is a long one.
    """
    site.manage("shell", "-c", FAILED_SMS)
    site.set_event(gallery_token="Q8gb9Se0cMQzoHUzS4LwXkT", name=LONG_NAME)
    page = browser_for(smiling=False)
    check_fits(page, site.url + "/console/login/", "console-login")
    sign_in(page, site)
    for name, path in console_pages(site).items():
        check_fits(page, site.url + path, name)
    page.goto(site.url + "/console/demo/demo-party/sms/")
    expect(page.locator("main")).to_contain_text("Anti-spam rejection by the carrier.")
    ((share_token,),) = site.query("SELECT share_token FROM captures_boothsession")
    check_fits(page, f"{site.url}/s/{share_token}/", "guest-session")
    check_fits(page, f"{site.url}/g/Q8gb9Se0cMQzoHUzS4LwXkT/", "guest-gallery")
