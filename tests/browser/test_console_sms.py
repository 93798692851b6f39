"""The console's SMS pages in Chromium: the live preview and segment counter, the account form.

static/console-sms.js counts segments by messaging/segments.py's rules: the same cases
are counted in the page and in Python, and must agree.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from events.models import Event
from messaging import services
from messaging.segments import count_segments
from tests.browser.conftest import check_fits, screenshot

pytestmark = pytest.mark.browser

SETTINGS = "/console/demo/demo-party/sms/settings/"
ACCOUNT = "/console/demo/sms-account/"

#: Texts whose counts the page and Python must agree on: the boundaries of both encodings.
CASES = [
    "",
    "x" * 160,
    "x" * 161,
    "x" * 158 + "€",
    "x" * 159 + "€",
    "x" * 152 + "€" + "x" * 152,
    "ç" * 70,
    "ç" * 71,
    "🙂" * 35,
    "🙂" * 35 + "a",
    "ç" * 66 + "🙂" + "ç" * 66,
    "Café [1] {2} ~ | ^ \\ ¿Qué? £5",
]
TEMPLATES = [
    "  Hi\r\n\tthere {link}  ",
    "No link here",
    "Two\x00words {link} ",
    "x\u3000\u00a0y {link}",
]


def sign_in(page, site) -> None:
    page.goto(site.url + "/console/login/")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "boothsite-demo")
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()
    assert "/login/" not in page.url


def counts(page) -> tuple[str, str, str]:
    return (
        page.inner_text("#sms-count-units"),
        page.inner_text("#sms-count-encoding"),
        page.inner_text("#sms-count-segments"),
    )


def test_preview_and_counter_follow_the_typing(site, pairing_url, browser_for):
    page = browser_for(smiling=False)
    sign_in(page, site)
    page.goto(site.url + SETTINGS)
    link = page.get_attribute("form[data-sms-settings]", "data-link")
    assert link == f"{site.url}/s/{'x' * 22}/"
    area = page.locator("#id_sms_template")

    area.fill("Hello {link}")
    expect(page.locator("#sms-preview")).to_have_text(f"Hello {link}")
    assert counts(page) == (str(6 + len(link)), "GSM-7", "1")
    expect(page.locator("#sms-encoding-note")).to_be_hidden()

    area.press("End")
    area.type(" 🙂")
    expect(page.locator("#sms-count-encoding")).to_have_text("UCS-2")
    expect(page.locator("#sms-preview")).to_have_text(f"Hello {link} 🙂")
    assert counts(page) == (str(6 + len(link) + 3), "UCS-2", "1")
    expect(page.locator("#sms-encoding-note")).to_be_visible()
    expect(page.locator("#sms-non-gsm")).to_have_text("🙂")

    area.fill("x" * 420 + " {link}")
    expect(page.locator("#sms-count-segments")).to_have_text("4")
    expect(page.locator("#sms-counter")).to_have_class("sms-counter too-long")
    area.fill("")
    expect(page.locator("#sms-preview")).to_have_text(f"Your photos from Demo Party: {link}")


def test_the_page_counts_and_composes_as_python_does(site, pairing_url, browser_for):
    page = browser_for(smiling=False)
    sign_in(page, site)
    page.goto(site.url + SETTINGS)
    in_page = page.evaluate(
        "(cases) => cases.map((c) => { const r = window.boothsiteSms.countSegments(c);"
        " return [r.encoding, r.units, r.segments, r.remaining, r.nonGsm]; })",
        CASES,
    )
    in_python = [
        [c.encoding, c.units, c.segments, c.remaining, list(c.non_gsm)]
        for c in map(count_segments, CASES)
    ]
    assert in_page == in_python
    composed = page.evaluate(
        "(templates) => templates.map((t) => window.boothsiteSms.compose(t, 'LINK', 'D {link}'))",
        TEMPLATES,
    )
    event = Event(name="Demo Party")  # unsaved: composing reads only the template
    assert composed == [services.compose_share_text(event, "LINK", t.strip()) for t in TEMPLATES]


def test_save_then_every_sms_page_fits_a_phone(site, pairing_url, browser_for):
    page = browser_for(smiling=False)
    sign_in(page, site)
    page.goto(site.url + SETTINGS)
    page.fill("#id_sms_template", "Thanks for coming to the party! 🎉 Your photos: {link}")
    page.click("button[value=save]")
    expect(page.locator(".messages")).to_contain_text("Saved.")
    assert site.query("SELECT sms_template FROM events_event") == [
        ("Thanks for coming to the party! 🎉 Your photos: {link}",)
    ]
    expect(page.locator("#sms-count-encoding")).to_have_text("UCS-2")  # server-rendered
    check_fits(page, site.url + SETTINGS, "console-sms-settings")

    page.goto(site.url + ACCOUNT)
    expect(page.locator("[data-own-fields]")).to_be_hidden()  # the platform's is in use
    page.check("input[name=account][value=own]")
    expect(page.locator("[data-own-fields]")).to_be_visible()
    page.fill("#id_api_key", "a1b2c3d4")
    page.fill("#id_api_secret", "Own5ecretValue9")
    page.fill("#id_sender", "DemoParty")
    page.click("form.sms-account-form button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Saved. Not checked with Vonage")
    expect(page.locator("#sms-account-in-use")).to_contain_text("API key ending in …c3d4")
    assert "Own5ecretValue9" not in page.content()
    screenshot(page, "console-sms-account-saved")
    check_fits(page, site.url + ACCOUNT, "console-sms-account")
