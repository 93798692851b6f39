"""The event ZIP in a real browser: the organiser's and a guest's download, every file opened."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from tests.browser.conftest import PAGE_VIEWPORTS, screenshot
from tests.browser.test_console import sign_in
from tests.browser.test_console_captures import snap_session

pytestmark = pytest.mark.browser

LINK = "Download all photos (ZIP)"


def download(page, link_name: str, target: Path) -> Path:
    """Click the link named ``link_name``; save what the browser downloads to ``target``."""
    with page.expect_download() as started:
        page.get_by_role("link", name=link_name).click()
    started.value.save_as(target)
    assert started.value.suggested_filename == "demo-party.zip"
    return target


def opened_members(path: Path) -> list[str]:
    """Open the ZIP and every image in it (Pillow decodes each); return its names."""
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None  # every member's CRC-32 checks out
        names = archive.namelist()
        for name in names:
            with archive.open(name) as member, Image.open(member) as image:
                image.load()
                assert image.width > 0
    return names


def test_organiser_and_guest_download_the_event_and_every_file_opens(
    site, pairing_url, browser_for, tmp_path
):
    snap_session(site, 2)
    page = browser_for(smiling=False)
    sign_in(page, site)
    for label, (width, height) in PAGE_VIEWPORTS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.goto(site.url + "/console/demo/demo-party/")
        screenshot(page, f"event-download-{label}")
        names = opened_members(download(page, LINK, tmp_path / f"organiser-{label}.zip"))
        photos = [name for name in names if re.fullmatch(r"demo-party/\d{4}\.jpg", name)]
        assert len(photos) == 2, names
        assert any(name.startswith("demo-party/strips/") for name in names), names
        assert len(names) > len(photos)  # the filtered versions too

    site.set_event(guest_download=True)
    out = site.manage("seed_demo")
    gallery = re.search(r"Event gallery:\s+(\S+)", out)
    assert gallery, out
    guest = browser_for(smiling=False)
    guest.set_viewport_size({"width": 390, "height": 844})
    guest.goto(gallery.group(1))
    guest_names = opened_members(download(guest, LINK, tmp_path / "guest.zip"))
    assert sorted(guest_names) == sorted(names)
