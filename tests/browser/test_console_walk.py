"""The organiser console's "Done when" checks in chromium (issue 13): one walk, and axe-core.

The walk is one story through one site: a new organiser signs up and verifies the email,
creates an event, adds a booth and pairs a kiosk with it (a second browser context whose
fake webcam shows a real smiling face), watches the monitor show the booth come online
and its photos arrive over the socket, hides a photo, and invites a viewer who then sees
the settings read-only. Fields are found by their labels and buttons and links by their
role and name. Each console page visited is shot at 390x844 and 1280x800
(``test-artifacts/screens/walk-*.png``) and checked not to scroll sideways.

The axe test opens every console page, the sign-in, sign-up, password and email pages,
the invitation page and the 404 page at both sizes and runs axe-core on each (bundled by
axe-playwright-python, so no CDN): any "serious" or "critical" violation fails, and so
does any unlabelled field or unnamed button (the ``label``, ``select-name`` and
``button-name`` rules, whatever their impact).
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PAGE_VIEWPORTS, Site, axe_problems, check_fits
from tests.browser.test_booth_kiosk import open_booth
from tests.browser.test_console import sign_in
from tests.browser.test_console_accounts import PASSWORD, emailed_link
from tests.browser.test_console_captures import snap_session, strip_widths, with_images

pytestmark = pytest.mark.browser

ORGANISER = "Bright Booths"
EVENT = "Summer garden party"
BOOTH = "Garden booth"
SNAPS = 2
#: The gallery's photos and strips, by their text.
PHOTO = re.compile(r"^Photo (\d+, )?taken")
STRIP = re.compile(r"^(Animated )?[Pp]hoto strip")


def new_context(browser: Any) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(20_000)
    return context


def as_it_is(page: Any) -> None:
    """An ``open_page`` for ``check_fits`` that keeps the page as it is (no reload)."""


def with_sourced_images(url: str) -> Callable[[Any], Any]:
    """Like ``with_images``, for a page with an image still without a source (a lightbox's)."""

    def open_page(page: Any) -> Any:
        response = page.goto(url)
        page.wait_for_function(
            "() => [...document.images].filter((i) => i.getAttribute('src'))"
            ".every((i) => i.complete && i.naturalWidth > 0)"
        )
        return response

    return open_page


def wait_for_strips(site: Site) -> list[int]:
    """Wait until every strip of the site is rendered; return their widths."""
    deadline = time.monotonic() + 30
    while site.query("SELECT COUNT(*) FROM captures_strip WHERE status != 'ready'") != [(0,)]:
        assert time.monotonic() < deadline, site.query("SELECT status FROM captures_strip")
        time.sleep(0.2)
    return strip_widths(site)


def test_a_new_organiser_runs_an_event_from_sign_up_to_a_read_only_viewer(site, browser_for):
    kiosk = browser_for(smiling=True)
    console = new_context(kiosk.context.browser)
    page = console.new_page()
    nav = page.get_by_role("navigation", name="Console")

    # Sign up, then verify the address from the email.
    check_fits(page, site.url + "/accounts/signup/", "walk-signup")
    page.get_by_label("Organiser name").fill(ORGANISER)
    page.get_by_label("Country").select_option("IE")
    page.get_by_label("Email address").fill("ana@example.com")
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    check_fits(page, page.url, "walk-verification-sent")
    confirm = site.url + emailed_link(site, r"/accounts/confirm-email/[^/\s]+/")
    check_fits(page, confirm, "walk-confirm")
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(site.url + "/console/")
    expect(page.get_by_role("heading", level=1)).to_have_text(ORGANISER)
    check_fits(page, page.url, "walk-organiser-home")

    # Create an event, and have its booths take two photos per session on a smile.
    page.get_by_role("link", name="New event").click()
    check_fits(page, page.url, "walk-event-create")
    page.get_by_label("Name:", exact=True).fill(EVENT)
    starts = dt.datetime.now(ZoneInfo("Europe/London")).replace(second=0, microsecond=0)
    page.get_by_label("Starts:").fill(f"{starts:%Y-%m-%dT%H:%M}")  # today: its gallery is open
    page.get_by_label("Ends:").fill(f"{starts + dt.timedelta(hours=6):%Y-%m-%dT%H:%M}")
    page.get_by_label("Time zone:").select_option("Europe/London")
    page.get_by_role("button", name="Create the event").click()
    expect(page.locator(".messages")).to_contain_text(f"Created “{EVENT}”")
    event_url = page.url
    check_fits(page, event_url, "walk-event")
    tabs = page.get_by_role("navigation", name=f"Event {EVENT}")
    tabs.get_by_role("link", name="Capture", exact=True).click()
    page.get_by_label("Snap on a smile").check()
    page.get_by_label("Snaps per session").fill(str(SNAPS))
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Saved.")
    check_fits(page, page.url, "walk-event-capture")

    # Add a booth; its pairing page shows a one-time link.
    nav.get_by_role("link", name="Booths").click()
    check_fits(page, page.url, "walk-booths")
    page.get_by_role("link", name="Add a booth").click()
    check_fits(page, page.url, "walk-booth-create")
    page.get_by_label("Name").fill(BOOTH)
    page.get_by_label("Event to serve").select_option(label=EVENT)
    page.get_by_role("button", name="Add booth").click()
    expect(page.get_by_role("heading", name=f"Pair {BOOTH}")).to_be_visible()
    link = page.get_by_role("link", name=re.compile("#pair=")).get_attribute("href")
    assert link
    assert link.startswith(f"{site.url}/booth/#pair=")
    check_fits(page, "", "walk-booth-pairing", open_page=as_it_is)

    # The monitor: the kiosk pairs and comes online, its photos arrive, all pushed.
    nav.get_by_role("link", name="Monitor").click()
    expect(page.locator("#monitor-connection")).to_have_text("Live")
    card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=BOOTH))
    expect(card.get_by_role("status")).to_have_text("Offline")
    page.evaluate("() => { window.walkNotReloaded = true; }")
    open_booth(kiosk, link)
    expect(kiosk.locator("#event-name")).to_have_text(EVENT)
    expect(card.get_by_role("status")).to_have_text("Online")
    kiosk.get_by_role("button", name="Start").click()  # auto mode: each smile snaps
    photos = page.get_by_role("region", name="New photos").get_by_role(
        "img", name=f"Photo from {BOOTH}"
    )
    expect(photos).to_have_count(SNAPS, timeout=60_000)
    expect(card.get_by_role("img", name=f"Last capture of {BOOTH}")).to_be_visible()
    assert page.evaluate("() => window.walkNotReloaded") is True
    check_fits(page, "", "walk-monitor", open_page=as_it_is)
    expect(kiosk.locator("#strip-box img.strip-image")).to_be_visible(timeout=30_000)
    widths = wait_for_strips(site)
    assert widths
    kiosk.context.close()

    # The gallery before: both photos and the strip.
    page.goto(event_url)
    gallery = (
        page.locator("main p").filter(has_text="Gallery:").get_by_role("link").get_attribute("href")
    )
    assert gallery
    gallery = site.url + gallery if gallery.startswith("/") else gallery
    page.goto(gallery)
    strip = page.get_by_role("img", name=STRIP)
    expect(strip).to_have_count(len(widths))
    expect(page.get_by_role("img", name=PHOTO)).to_have_count(SNAPS)
    strip_before = strip.first.get_attribute("src")

    # Hide the newest photo: gone from the gallery, its media URL 404, the strip rendered again.
    page.goto(event_url)
    tabs.get_by_role("link", name="Captures", exact=True).click()
    items = page.get_by_role("listitem").filter(has=page.get_by_role("button", name="Hide"))
    expect(items).to_have_count(SNAPS)
    newest = items.first
    original = newest.get_by_role("link", name=re.compile("^Photo taken")).get_attribute("href")
    thumbnail = newest.get_by_role("img").get_attribute("src")
    assert original
    assert thumbnail
    assert page.request.get(site.url + original).status == 200
    newest.get_by_role("button", name=re.compile("^Hide the photo")).click()
    expect(page.locator(".messages")).to_contain_text("Photo hidden.")
    expect(page.get_by_role("button", name=re.compile("^Show the photo"))).to_have_count(1)
    check_fits(page, page.url, "walk-captures", open_page=with_images(page.url))
    assert page.request.get(site.url + original).status == 404
    assert page.request.get(site.url + thumbnail).status == 404
    assert wait_for_strips(site) == [width // SNAPS for width in widths]
    page.goto(gallery)
    expect(page.locator(f"img[src='{thumbnail}']")).to_have_count(0)
    expect(page.get_by_role("img", name=PHOTO)).to_have_count(SNAPS - 1)
    strip_after = strip.first.get_attribute("src")
    assert strip_after != strip_before
    assert page.request.get(site.url + strip_after).status == 200
    hidden_text = (".visually-hidden",)  # clipped to 1 px on purpose, for screen readers
    check_fits(
        page,
        gallery,
        "walk-gallery",
        may_scroll=hidden_text,
        open_page=with_sourced_images(gallery),
    )

    # Invite a viewer, who accepts from the email and may only look.
    page.goto(event_url)
    nav.get_by_role("link", name="Team").click()
    page.get_by_label("Email address").fill("vic@example.com")
    page.get_by_label(re.compile(r"^Role:?$")).select_option("viewer")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".messages")).to_contain_text("Invitation sent to vic@example.com")
    check_fits(page, page.url, "walk-team")
    invitation = site.url + emailed_link(site, r"/invite/inv_[^/\s]+/")

    guest = new_context(console.browser).new_page()
    check_fits(guest, invitation, "walk-invitation")
    expect(guest.get_by_role("heading", level=1)).to_have_text(f"Join {ORGANISER}")
    guest.get_by_role("link", name="Create an account and join").click()
    expect(guest.get_by_label("Email address")).to_have_value("vic@example.com")
    guest.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    guest.get_by_label("Password again").fill(PASSWORD)
    guest.get_by_role("button", name="Create account and join").click()
    guest.wait_for_url(site.url + "/console/")
    expect(guest.locator("main")).to_contain_text("Your role: Viewer")
    guest.get_by_role("link", name=EVENT, exact=True).click()
    guest.get_by_role("navigation", name=f"Event {EVENT}").get_by_role(
        "link", name="Capture", exact=True
    ).click()
    expect(guest.locator("main")).to_contain_text(
        "You can see these settings; an owner or a manager can change them."
    )
    snaps = guest.get_by_label("Snaps per session")
    expect(snaps).to_have_value(str(SNAPS))
    expect(snaps).to_be_disabled()
    expect(guest.get_by_label("Snap on a smile")).to_be_disabled()
    expect(guest.get_by_role("button", name="Save")).to_have_count(0)
    check_fits(guest, guest.url, "walk-viewer-capture")
    token = next(c["value"] for c in guest.context.cookies() if c["name"] == "csrftoken")
    refused = guest.request.post(
        guest.url, form={"captures_per_session": "4"}, headers={"X-CSRFToken": token}
    )
    assert refused.status == 403
    assert site.query("SELECT captures_per_session FROM events_event") == [(SNAPS,)]
    guest.context.close()
    console.close()


# --- axe-core on every page ------------------------------------------------------------

#: Rules that fail the test whatever their impact: every field labelled, every button named.

DEMO = "/console/demo/"
DEMO_EVENT = DEMO + "demo-party/"


def demo_booth(site: Site) -> str:
    ((public_id,),) = site.query("SELECT public_id FROM events_booth WHERE name = 'Demo booth'")
    return str(uuid.UUID(public_id))


def pairing_page(url: str) -> Callable[[Any], Any]:
    """Open a booth's page and ask for a pairing code (the pairing page answers a POST)."""

    def open_page(page: Any) -> Any:
        page.goto(url)
        page.get_by_role("button", name=re.compile("pairing code")).click()
        expect(page.get_by_role("heading", name=re.compile("^Pair "))).to_be_visible()
        return None

    return open_page


def live_monitor(url: str) -> Callable[[Any], Any]:
    """Open a monitor page and wait until its socket is live (the page as it is used)."""

    def open_page(page: Any) -> Any:
        response = page.goto(url)
        expect(page.locator("#monitor-connection")).to_have_text("Live")
        return response

    return open_page


def check_axe(page: Any, pages: dict[str, str | Callable[[Any], Any]], site: Site) -> list[str]:
    """Open each of ``pages`` at each of ``PAGE_VIEWPORTS``; return axe's failing findings.

    A page is a path, or a function that opens it (and returns its response, or None).
    Each must answer 200, or 404 when its name ends in "404".
    """
    problems = []
    for name, target in pages.items():
        for label, (width, height) in PAGE_VIEWPORTS.items():
            page.set_viewport_size({"width": width, "height": height})
            response = target(page) if callable(target) else page.goto(site.url + target)
            if response is not None:
                expected = 404 if name.endswith("404") else 200
                assert response.status == expected, f"{name}: {response.status} at {page.url}"
            page.wait_for_load_state()
            problems += axe_problems(page, f"{name} at {label} ({page.url})")
    page.set_viewport_size({"width": 1280, "height": 800})
    return problems


def test_every_console_page_passes_axe(site_debug_off, browser_for):
    site = site_debug_off
    site.manage("seed_demo")
    snap_session(site, 2)
    booth = f"{DEMO}booths/{demo_booth(site)}/"
    ((capture,),) = site.query("SELECT public_id FROM captures_capture ORDER BY id DESC LIMIT 1")
    page = browser_for(smiling=False)
    browser = page.context.browser

    # Signed out: sign-in, sign-up, password reset; a sign-up's email pages.
    guest = new_context(browser).new_page()
    signed_out: dict[str, str | Callable[[Any], Any]] = {
        "sign-in": "/console/login/",
        "sign-up": "/accounts/signup/",
        "password-reset": "/accounts/password/reset/",
        "404": "/no-such-page/",
    }
    problems = check_axe(guest, signed_out, site)
    guest.goto(site.url + "/accounts/password/reset/")
    guest.get_by_label(re.compile("^Email")).fill("demo@example.com")
    guest.get_by_role("button", name=re.compile("[Rr]eset")).click()
    guest.wait_for_url("**/password/reset/done/")
    reset = emailed_link(site, r"/accounts/password/reset/key/[^/\s]+/")
    guest.goto(site.url + "/accounts/signup/")
    guest.get_by_label("Organiser name").fill("Axe Booths")
    guest.get_by_label("Country").select_option("IE")
    guest.get_by_label("Email address").fill("axe@example.com")
    guest.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    guest.get_by_label("Password again").fill(PASSWORD)
    guest.get_by_role("button", name="Sign up").click()
    guest.wait_for_url("**/accounts/confirm-email/")
    confirm = emailed_link(site, r"/accounts/confirm-email/[^/\s]+/")
    problems += check_axe(
        guest,
        {
            "password-reset-done": "/accounts/password/reset/done/",
            "password-reset-key": reset,
            "verification-sent": "/accounts/confirm-email/",
            "confirm-email": confirm,
        },
        site,
    )

    # Signed in as the demo owner: every console page.
    sign_in(page, site)
    page.goto(site.url + DEMO + "team/")
    page.get_by_label("Email address").fill("vic@example.com")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".messages")).to_contain_text("Invitation sent")
    invitation = emailed_link(site, r"/invite/inv_[^/\s]+/")
    console: dict[str, str | Callable[[Any], Any]] = {
        "console": "/console/",
        "organiser-home": DEMO,
        "organiser-create": "/console/new/",
        "event-create": DEMO + "events/new/",
        "event": DEMO_EVENT,
        "event-edit": DEMO_EVENT + "edit/",
        "event-delete": DEMO_EVENT + "delete/",
        "capture-settings": DEMO_EVENT + "capture/",
        "gallery-settings": DEMO_EVENT + "gallery/",
        "branding": DEMO_EVENT + "branding/",
        "sms-settings": DEMO_EVENT + "sms/settings/",
        "sms-sent": DEMO_EVENT + "sms/",
        "sms-account": DEMO + "sms-account/",
        "erase-number": DEMO + "privacy/erase-number/",
        "stats": DEMO_EVENT + "stats/",
        "captures": DEMO_EVENT + "captures/",
        "capture-delete": DEMO_EVENT + f"captures/{capture}/delete/",
        "booths": DEMO + "booths/",
        "booth-create": DEMO + "booths/new/",
        "booth": booth,
        "booth-camera": booth + "camera/",
        "booth-pairing": pairing_page(site.url + booth),
        "booth-rotate": booth + "rotate/",
        "booth-revoke": booth + "revoke/",
        "monitor": live_monitor(site.url + DEMO + "monitor/"),
        "event-monitor": live_monitor(site.url + DEMO_EVENT + "monitor/"),
        "team": DEMO + "team/",
        "account-email": "/accounts/email/",
        "password-change": "/accounts/password/change/",
        "console-404": DEMO + "no-such-event/",
    }
    problems += check_axe(page, console, site)

    # The invitation, signed out (and its sign-up) and signed in.
    invited: dict[str, str | Callable[[Any], Any]] = {
        "invitation": invitation,
        "invitation-signup": invitation + "signup/",
    }
    problems += check_axe(new_context(browser).new_page(), invited, site)
    problems += check_axe(page, {"invitation-signed-in": invitation}, site)
    assert problems == [], "axe-core found:\n" + "\n".join(problems)
