"""A real daphne server, a real database file and Debian's chromium with a fake camera.

These tests drive the booth kiosk end to end. Chromium plays a y4m file made here from
real GENKI-4K photos as its webcam (Chrome reads y4m as limited-range YCbCr 4:2:0).
Skipped, with the reason, where chromium, Playwright or the shared data are missing.
"""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont, ImageOps

ROOT = Path(__file__).resolve().parents[2]
GENKI = ROOT.parent / "shared" / "data" / "genki4k-dev"
CHROMIUM = Path("/usr/bin/chromium")
SCREENS = ROOT / "test-artifacts" / "screens"

pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
if not CHROMIUM.exists():
    pytest.skip(
        "Debian's chromium is not installed (apt-get install -y chromium)", allow_module_level=True
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_y4m(photo: Path, target: Path, frames: int = 10) -> Path:
    """Write a 640x480 5 fps y4m of ``photo`` (a guest about 1 m from the camera)."""
    face = ImageOps.contain(Image.open(photo).convert("RGB"), (360, 360))
    canvas = Image.new("RGB", (640, 480), (120, 110, 100))
    canvas.paste(face, ((640 - face.width) // 2, (480 - face.height) // 2))
    rgb = np.asarray(canvas, dtype=np.float64)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 16 + 219 * (0.299 * r + 0.587 * g + 0.114 * b) / 255
    cb = 128 + 224 * (-0.168736 * r - 0.331264 * g + 0.5 * b) / 255
    cr = 128 + 224 * (0.5 * r - 0.418688 * g - 0.081312 * b) / 255

    def half(plane: np.ndarray) -> np.ndarray:
        return np.asarray(plane.reshape(240, 2, 320, 2).mean(axis=(1, 3)))

    planes = [np.clip(np.rint(p), 0, 255).astype(np.uint8) for p in (y, half(cb), half(cr))]
    with target.open("wb") as out:
        out.write(b"YUV4MPEG2 W640 H480 F5:1 Ip A1:1 C420jpeg\n")
        for _ in range(frames):
            out.write(b"FRAME\n")
            for plane in planes:
                out.write(plane.tobytes())
    return target


def write_logo(target: Path) -> Path:
    """Write a PNG logo: a badge and a wordmark on a transparent ground, 8 px margin."""
    logo = Image.new("RGBA", (480, 160), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    draw.ellipse((8, 8, 152, 152), fill=(214, 51, 108, 255))
    draw.ellipse((48, 48, 112, 112), fill=(255, 255, 255, 255))
    font = ImageFont.load_default(size=56)
    draw.text((176, 44), "DEMO", fill=(29, 29, 31, 255), font=font)
    draw.text((176, 96), "PARTY", fill=(214, 51, 108, 255), font=ImageFont.load_default(size=40))
    left, top, right, bottom = logo.getbbox() or (0, 0, 480, 160)
    logo.crop((left - 8, top - 8, right + 8, bottom + 8)).save(target, "PNG")
    return target


def genki_photo(smiling: bool) -> Path:
    labels = GENKI / "labels.csv"
    if not labels.exists():
        pytest.skip("../shared/data/genki4k-dev is not beside this checkout")
    for line in labels.read_text().splitlines()[1:]:
        name, label, yaw, pitch, roll = line.split(",")
        frontal = max(abs(float(v)) for v in (yaw, pitch, roll)) < 0.05
        if label == ("1" if smiling else "0") and frontal:
            return GENKI / "files" / name
    pytest.skip("no frontal photo with that label")


@dataclass
class Site:
    """One Boothsite served by daphne from a database file of its own."""

    folder: Path
    port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str) -> str:
        result = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
            capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        return result.stdout

    def start(self) -> None:
        log = (self.folder / "daphne.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
             "boothsite.asgi:application"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        pytest.fail("daphne did not start: " + (self.folder / "daphne.log").read_text()[-2000:])

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=15)
            self.process = None

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.folder / "db.sqlite3") as db:
            return db.execute(sql, params).fetchall()

    def set_logo(self, logo: Path) -> None:
        """Give the event a logo through the branding service, as the console does."""
        self.manage(
            "shell",
            "-c",
            "from pathlib import Path; from captures import services; "
            "from events.models import Event; event = Event.objects.get(); "
            "services.update_branding(event, welcome_text=event.welcome_text, "
            f"brand_color=event.brand_color, logo=Path({str(logo)!r}).read_bytes())",
        )

    def set_event(self, **fields: object) -> None:
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with sqlite3.connect(self.folder / "db.sqlite3") as db:
            db.execute(f"UPDATE events_event SET {assignments}", tuple(fields.values()))  # noqa: S608


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "REDIS_", "CELERY_", "BOOTHSITE_", "VONAGE_"))
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "boothsite.settings",
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "SITE_URL": f"http://127.0.0.1:{port}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    running = Site(tmp_path, port, env)
    running.manage("migrate", "--noinput")
    running.start()
    yield running
    running.stop()


@pytest.fixture
def pairing_url(site: Site) -> str:
    out = site.manage("seed_demo")
    match = re.search(r"Booth page:\s+(\S+)", out)
    assert match, out
    return match.group(1)


def launch(playwright: Any, camera: Path) -> Any:
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={camera}",
        ],
    )  # fmt: skip


@pytest.fixture
def browser_for(tmp_path: Path) -> Iterator[Any]:
    """``browser_for(smiling=True)``: a chromium whose webcam shows a real face."""
    from playwright.sync_api import sync_playwright

    browsers: list[Any] = []
    with sync_playwright() as playwright:

        def make(*, smiling: bool) -> Any:
            camera = write_y4m(genki_photo(smiling), tmp_path / f"camera-{smiling}.y4m")
            browser = launch(playwright, camera)
            browsers.append(browser)
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            context.set_default_timeout(20_000)
            return context.new_page()

        yield make
        for browser in browsers:
            browser.close()


def screenshot(page: Any, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"))


#: The kiosk's target screens: a 1280x800 tablet (the default) and a 1920x1080 display.
VIEWPORTS = {"1280x800": (1280, 800), "1920x1080": (1920, 1080)}

_LAYOUT = """(selectors) => {
  const root = document.documentElement;
  const boxes = {};
  for (const selector of selectors) {
    const node = document.querySelector(selector);
    const box = node ? node.getBoundingClientRect() : null;
    boxes[selector] = box && [box.left, box.top, box.right, box.bottom, box.width * box.height];
  }
  const sideways = [...document.querySelectorAll(".screen:not([hidden]) *")]
    .filter((node) => node.scrollWidth > node.clientWidth + 1)
    .filter((node) => getComputedStyle(node).overflowX !== "visible")
    .map((node) => node.id || node.className || node.tagName);
  return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, boxes, sideways };
}"""


def check_screen(page: Any, name: str, fully_visible: tuple[str, ...]) -> None:
    """Screenshot ``name`` at each of ``VIEWPORTS`` and check that the layout holds.

    At each size: the page does not scroll sideways, no element on the screen scrolls
    its content sideways, and each of ``fully_visible`` is on screen in full, without
    scrolling. The 1280x800 shot is ``<name>.png``, the others ``<name>-<size>.png``.
    """
    for label, (width, height) in VIEWPORTS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(150)  # let transitions (the smile meter) settle
        layout = page.evaluate(_LAYOUT, list(fully_visible))
        where = f"{name} at {label}"
        assert layout["scrollWidth"] <= layout["clientWidth"], f"{where} scrolls sideways"
        assert layout["sideways"] == [], f"{where}: content overflows sideways"
        for selector, box in layout["boxes"].items():
            assert box, f"{where}: {selector} is missing"
            left, top, right, bottom, area = box
            assert area > 0, f"{where}: {selector} has no size"
            assert min(left, top) >= 0, f"{where}: {selector} starts off screen: {box}"
            assert right <= width, f"{where}: {selector} is cut on the right: {box}"
            assert bottom <= height, f"{where}: {selector} is cut at the bottom: {box}"
        screenshot(page, name if label == "1280x800" else f"{name}-{label}")
    page.set_viewport_size({"width": 1280, "height": 800})
