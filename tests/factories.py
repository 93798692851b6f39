"""Plain typed builders for test data; each builds missing parents."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

from django.contrib.auth.models import User
from PIL import Image

from captures.models import BoothSession
from events import services
from events.models import Booth, Event, Organiser
from events.roles import Role

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"
GENKI_DIR = DATA_DIR / "genki4k-dev" / "files"
_counter = itertools.count(1)


def make_organiser(*, name: str = "", slug: str = "") -> Organiser:
    n = next(_counter)
    return Organiser.objects.create(name=name or f"Organiser {n}", slug=slug or f"org-{n}")


def make_user(*, username: str = "") -> User:
    return User.objects.create_user(username=username or f"user{next(_counter)}", password="pw")


def make_member(organiser: Organiser, role: Role = Role.OWNER, *, username: str = "") -> User:
    user = make_user(username=username)
    services.add_member(organiser, user, role)
    return user


def make_event(
    organiser: Organiser | None = None, *, slug: str = "party", **fields: object
) -> Event:
    organiser = organiser or make_organiser()
    return services.create_event(organiser, name=f"Event {slug}", slug=slug, **fields)


def make_booth(event: Event | None = None, *, name: str = "Booth") -> tuple[Booth, str]:
    event = event or make_event()
    issued = services.create_booth(event.organiser, name=name, event=event)
    return issued.booth, issued.secret


def make_session(booth: Booth) -> BoothSession:
    from captures import services as capture_services

    return capture_services.start_session(booth)


def image_bytes(
    fmt: str = "JPEG",
    size: tuple[int, int] = (64, 48),
    color: tuple[int, int, int] = (200, 120, 40),
) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt)
    return buffer.getvalue()


def genki_photos(count: int) -> list[Path]:
    """The first ``count`` GENKI-4K dev photos, sorted by name (empty if the data is absent)."""
    if not GENKI_DIR.is_dir():
        return []
    return sorted(GENKI_DIR.iterdir())[:count]
