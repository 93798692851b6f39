"""Events in the console, in a real browser: create one, change its capture settings, delete it.

Every page is shot at 390x844 and 1280x800 (``console-event-<page>-<size>.png``) and
checked not to scroll sideways on the phone.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import check_fits

pytestmark = pytest.mark.browser

NAME = "Summer garden party"
SLUG = "summer-garden-party"


def sign_in(page, site) -> None:
    page.goto(site.url + "/console/login/")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "boothsite-demo")
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()
    assert "/login/" not in page.url


def test_organiser_creates_an_event_changes_its_capture_settings_and_deletes_it(
    site, pairing_url, browser_for
):
    page = browser_for(smiling=False)
    sign_in(page, site)
    create = site.url + "/console/demo/events/new/"
    assert check_fits(page, create, "console-event-create") == [200, 200]

    page.get_by_label("Name:", exact=True).fill(NAME)
    slug = page.get_by_label("Short name in web addresses:")
    expect(slug).to_have_attribute("placeholder", SLUG)  # what an empty slug becomes
    page.get_by_label("Starts:").fill("2026-06-20T18:00")
    page.get_by_label("Ends:").fill("2026-06-21T01:00")
    page.get_by_label("Time zone:").select_option("Europe/London")
    page.get_by_role("button", name="Create the event").click()
    expect(page.locator(".messages")).to_contain_text(f"Created “{NAME}”")
    assert page.url == f"{site.url}/console/demo/{SLUG}/"
    rows = site.query("SELECT timezone, starts_at, filters FROM events_event WHERE slug = ?", SLUG)
    assert [(tz, starts[:16], json.loads(filters)) for tz, starts, filters in rows] == [
        ("Europe/London", "2026-06-20 17:00", ["grayscale", "sepia", "green", "blue"])
    ]  # 18:00 in London in June is 17:00 UTC

    page.get_by_role("navigation", name=f"Event {NAME}").get_by_role(
        "link", name="Capture", exact=True
    ).click()
    page.get_by_label("Red only", exact=True).check()
    page.get_by_label("Blue", exact=True).uncheck()
    page.get_by_label("Classic 2x6 print strip").check()
    page.get_by_label("Strip filter:").select_option("sepia")
    page.get_by_label("Brightness:").fill("1.25")
    expect(page.locator("#id_brightness_value")).to_have_text("1.25")
    page.get_by_label("Countdown (seconds):").fill("3")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Saved.")
    ((filters, layouts, strip_filter, brightness, countdown),) = site.query(
        "SELECT filters, strip_layouts, strip_filter, brightness, countdown_seconds "
        "FROM events_event WHERE slug = ?",
        SLUG,
    )
    assert json.loads(filters) == ["grayscale", "sepia", "green", "red_only"]
    assert json.loads(layouts) == ["horizontal_4", "classic_2x6"]
    assert (strip_filter, brightness, countdown) == ("sepia", 1.25, 3)

    event = f"{site.url}/console/demo/{SLUG}/"
    for page_name in ("capture", "edit", "gallery"):
        assert check_fits(page, event + page_name + "/", f"console-event-{page_name}") == [200, 200]

    assert check_fits(page, event + "delete/", "console-event-delete") == [200, 200]
    page.get_by_label("Type the event's name to confirm:").fill(NAME)
    page.get_by_role("button", name="Delete the event and its files").click()
    expect(page.locator(".messages")).to_contain_text(f"Deleted “{NAME}”")
    assert site.query("SELECT COUNT(*) FROM events_event WHERE slug = ?", SLUG) == [(0,)]
