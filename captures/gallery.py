"""What the guest pages show of each capture and strip: cards for the gallery templates.

The session page and the event gallery render a card per strip and per capture; each
card lists its versions (the original, then one per filter; a strip's image, and its
GIF for the ``animated`` layout) with the URLs the lightbox (``static/gallery.js``)
needs and a download named after the event and a number (``download_name``). Building
them in Python once keeps a page of a hundred photos cheap to render: every stored
file's URL is asked of storage once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from django.conf import settings
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from captures.archive import safe_stem
from captures.models import Capture, Strip

#: What a thumbnail takes on screen: the width of a phone, a ~15rem grid cell above.
PHOTO_SIZES = "(max-width: 40rem) 100vw, 16rem"
STRIP_SIZES = "(max-width: 40rem) 100vw, 24rem"


@dataclass(frozen=True)
class Version:
    """One image of a card: ``label`` ("Original", "Sepia", "Strip", "GIF"), its URLs.

    ``url`` shows the full image, ``thumb`` its thumbnail (the full image when it has
    none), ``download`` downloads it as ``filename``; ``width``/``height`` in pixels.
    """

    label: str
    url: str
    thumb: str
    download: str
    filename: str
    width: int
    height: int


@dataclass(frozen=True)
class Card:
    """A capture or strip as the guest pages show it.

    ``kind`` is "photo" or "strip"; ``number`` its place in the event (1-based);
    ``versions[0]`` the original (or the strip), then the filtered variants; ``gif`` a
    strip's animated GIF; ``img`` the thumbnail's ``<img>`` attributes (``img_attrs``);
    ``status`` a capture's render status ("" for a strip).
    """

    kind: str
    number: int
    alt: str
    versions: tuple[Version, ...]
    img: SafeString
    status: str = ""
    gif: Version | None = None

    @property
    def original(self) -> Version:
        return self.versions[0]

    @property
    def variants(self) -> tuple[Version, ...]:
        return self.versions[1:]


def download_name(slug: str, number: int, *parts: str, stored_name: str = "") -> str:
    """Return a guest's download file name: ``<event slug>-<number>[-<part>…].<ext>``.

    ``number`` is zero-padded to 4 digits ("summer-party-0042-sepia.jpg"); ``parts`` (a
    filter or "strip") and the slug are reduced to ``[A-Za-z0-9_-]``, so the name needs
    no quoting and carries nothing a guest typed, no phone number and no token. The
    extension is the stored file's (``jpg`` when it has none).
    """
    words = [safe_stem(slug), f"{number:04d}", *(safe_stem(part) for part in parts if part)]
    extension = stored_name.rsplit(".", 1)[-1].lower() if "." in stored_name else "jpg"
    return "-".join(words) + "." + safe_stem(extension)


def file_download_url(file: FieldFile, filename: str, url: str = "") -> str:
    """Return a URL that downloads stored ``file`` as ``filename`` (see ``download_name``).

    Local storage: ``<url>?download=1&name=<filename>`` (``url`` is ``file.url`` if
    given; the media view checks the name). S3: a signed URL whose
    ``ResponseContentDisposition`` makes S3 send the file as an attachment with that
    name; the name is ``[A-Za-z0-9_.-]``, so it needs no quoting.
    """
    if not file:
        return ""
    if settings.BOOTHSITE_STORAGE == "local":
        return f"{url or file.url}?download=1&name={filename}"
    disposition = f'attachment; filename="{filename}"'
    storage: Any = file.storage  # S3Storage.url takes ``parameters``; Storage.url does not
    signed: str = storage.url(file.name, parameters={"ResponseContentDisposition": disposition})
    return signed


def _version(
    label: str, image: FieldFile, thumbnail: FieldFile | None, size: tuple[int, int], name: str
) -> Version:
    url = image.url if image else ""
    thumb = thumbnail.url if thumbnail else url
    download = file_download_url(image, name, url)
    return Version(label, url, thumb, download, name, size[0], size[1])


def img_attrs(version: Version, *, side: int, sizes: str) -> SafeString:
    """Return an ``<img>``'s ``src``, ``srcset``, ``sizes``, ``width`` and ``height``.

    ``src`` is the thumbnail; ``srcset`` offers the thumbnail (its longer side is
    ``side`` pixels at most) and the full image by their widths, so a wide or dense
    screen takes the full one and a phone the thumbnail. ``width``/``height`` are the
    image's own, so the grid keeps its place while images load.
    """
    width, height = version.width, version.height
    if not (width and height):
        return format_html('src="{}"', version.thumb)
    small = (
        width if max(width, height) <= side else max(1, round(width * side / max(width, height)))
    )
    if version.thumb == version.url or small >= width:
        return format_html('src="{}" width="{}" height="{}"', version.thumb, width, height)
    return format_html(
        'src="{}" srcset="{} {}w, {} {}w" sizes="{}" width="{}" height="{}"',
        version.thumb, version.thumb, small, version.url, width, sizes, width, height,
    )  # fmt: skip


def capture_card(capture: Capture, number: int, slug: str, zone: tzinfo) -> Card:
    """Return ``capture``'s card; ``number`` is its place in the event (``media_numbers``).

    Its variants come from ``capture.variants.all()``: prefetch them. ``slug`` names
    the downloads; ``zone`` (the event's) the time in the thumbnail's text.
    """
    size = (capture.width, capture.height)
    name = download_name(slug, number, stored_name=capture.image.name)
    versions = [_version("Original", capture.image, capture.thumbnail, size, name)]
    for variant in capture.variants.all():
        name = download_name(slug, number, variant.filter, stored_name=variant.image.name)
        size = (variant.width, variant.height)
        versions.append(_version(variant.label, variant.image, variant.thumbnail, size, name))
    side = settings.BOOTHSITE_THUMBNAIL_SIDE
    return Card(
        kind="photo",
        number=number,
        alt=f"Photo {number}, taken {timezone.localtime(capture.taken_at, zone):%H:%M}",
        versions=tuple(versions),
        img=img_attrs(versions[0], side=side, sizes=PHOTO_SIZES),
        status=capture.render_status,
    )


def strip_card(strip: Strip, number: int, slug: str) -> Card:
    """Return a rendered ``strip``'s card; ``number`` is its place (``media_numbers``)."""
    size = (strip.width, strip.height)
    name = download_name(slug, number, "strip", stored_name=strip.image.name)
    version = _version("Strip", strip.image, strip.thumbnail, size, name)
    gif = None
    if strip.gif:
        gif_name = download_name(slug, number, "strip", stored_name=strip.gif.name)
        gif = _version("GIF", strip.gif, None, size, gif_name)
    animated = "Animated photo strip" if strip.gif else "Photo strip"
    side = settings.BOOTHSITE_THUMBNAIL_SIDE * 2
    return Card(
        kind="strip",
        number=number,
        alt=f"{animated} {number}",
        versions=(version,),
        img=img_attrs(version, side=side, sizes=STRIP_SIZES),
        gif=gif,
    )
