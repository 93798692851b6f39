"""Accounts and team in a real browser (issue 13.1, 13.2): sign up, verify, invite.

A new organiser signs up, reads the verification email (the embedded default's console
email backend prints it to daphne's log, which the test reads), verifies, lands in the
console and invites a viewer, who accepts in a second browser context. Fields and
buttons are found by their labels and names. Each page is shot at 1280x800 and 390x844
(``test-artifacts/screens/console-*.png``) and checked not to scroll sideways.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Site, check_fits

pytestmark = pytest.mark.browser

PASSWORD = "a-long-party-password-7"


def emailed_link(site: Site, pattern: str, *, after: int = 0) -> str:
    """Return the newest link matching ``pattern`` that daphne's log printed."""
    deadline = time.monotonic() + 10
    while True:
        log = (site.folder / "daphne.log").read_text(errors="replace")
        found = re.findall(r"https?://\S+?(" + pattern + r")", log)
        if len(found) > after:
            return str(found[-1])
        assert time.monotonic() < deadline, "no email with that link: " + log[-2000:]
        time.sleep(0.2)


def test_an_organiser_signs_up_verifies_and_invites_a_viewer(site, browser_for):
    page = browser_for(smiling=False)
    check_fits(page, site.url + "/accounts/signup/", "console-signup")
    check_fits(page, site.url + "/console/login/", "console-login")
    page.goto(site.url + "/accounts/signup/")
    page.get_by_label("Organiser name").fill("Bright Booths")
    page.get_by_label("Country").select_option("IE")
    page.get_by_label("Email address").fill("ana@example.com")
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    check_fits(page, page.url, "console-verification-sent")

    page.goto(site.url + emailed_link(site, r"/accounts/confirm-email/[^/\s]+/"))
    check_fits(page, page.url, "console-confirm-email")
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(site.url + "/console/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bright Booths")
    expect(page.locator("main")).to_contain_text("Country: Ireland")
    check_fits(page, site.url + "/console/", "console-organiser-home")
    check_fits(page, site.url + "/accounts/email/", "console-account")

    page.get_by_role("navigation", name="Console").get_by_role("link", name="Team").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Team")
    page.get_by_label("Email address").fill("vic@example.com")
    page.get_by_label(re.compile(r"^Role:?$")).select_option("viewer")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".messages")).to_contain_text("Invitation sent to vic@example.com")
    check_fits(page, page.url, "console-team")
    invitation = emailed_link(site, r"/invite/inv_[^/\s]+/")

    viewer = page.context.browser.new_context(viewport={"width": 1280, "height": 800})
    guest = viewer.new_page()
    check_fits(guest, site.url + invitation, "console-invitation")
    guest.goto(site.url + invitation)
    expect(guest.get_by_role("heading", level=1)).to_have_text("Join Bright Booths")
    guest.get_by_role("link", name="Create an account and join").click()
    expect(guest.get_by_label("Email address")).to_have_value("vic@example.com")
    guest.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    guest.get_by_label("Password again").fill(PASSWORD)
    guest.get_by_role("button", name="Create account and join").click()
    guest.wait_for_url(site.url + "/console/")
    expect(guest.get_by_role("heading", level=1)).to_have_text("Bright Booths")
    expect(guest.locator("main")).to_contain_text("Your role: Viewer")
    guest.get_by_role("link", name="Team").click()
    expect(guest.locator("main")).to_contain_text("Only the organiser's owners invite people")
    expect(guest.get_by_role("button", name="Send invitation")).to_have_count(0)
    check_fits(guest, guest.url, "console-team-viewer")
    assert guest.goto(site.url + invitation).status == 410  # the link worked once
    expect(guest.get_by_role("heading", level=1)).to_have_text("This invitation no longer works")

    page.reload()  # the owner's team page: the viewer joined, nothing is waiting
    expect(page.locator(".team-members")).to_contain_text("vic@example.com")
    expect(page.locator("main")).to_contain_text("No invitations waiting.")
    assert site.query(
        "SELECT u.email, m.role FROM events_membership m JOIN auth_user u ON u.id = m.user_id"
        " ORDER BY m.id"
    ) == [("ana@example.com", "owner"), ("vic@example.com", "viewer")]
    viewer.close()
