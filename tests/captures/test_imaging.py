"""Pure unit tests of captures.imaging: no Django, no database, tiny generated images."""

from __future__ import annotations

import base64
import functools
import io
import itertools
import pickle
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile, ImageOps, PngImagePlugin

from captures import imaging
from captures.imaging import InvalidImage, _pillow
from tests.captures.imaging_reference import (
    SEED_TINTS,
    all_colours,
    seed_factors,
    seed_tint_pixels,
)

PHOTOS = Path(__file__).resolve().parents[3] / "shared" / "data" / "genki4k-dev" / "files"
INVALID = (
    "Upload a valid image. The file you uploaded was either not an image or a corrupted image."
)
RNG = np.random.default_rng(20260401)


def noise(width: int, height: int) -> Image.Image:
    data = RNG.integers(0, 256, width * height * 3, dtype=np.uint8)
    return Image.frombytes("RGB", (width, height), data.tobytes())


def smooth(width: int, height: int) -> Image.Image:
    """A photo-like frame: gradients with a little noise, so JPEG stays close."""
    y, x = np.mgrid[0:height, 0:width]
    planes = [x * 255 // width, y * 255 // height, (x + y) * 255 // (width + height)]
    rgb = np.stack(planes, axis=2) + RNG.integers(-3, 4, (height, width, 3))
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def encoded(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_header_only(width: int, height: int, *extra: bytes) -> bytes:
    """A PNG whose header claims width x height; its pixel data is never read."""
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    idat = png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
    return b"\x89PNG\r\n\x1a\n" + ihdr + b"".join(extra) + idat + png_chunk(b"IEND", b"")


def data_url(kind: str, raw: bytes) -> str:
    return f"data:{kind};base64," + base64.b64encode(raw).decode()


def real_photos(count: int) -> list[Image.Image]:
    files = sorted(PHOTOS.glob("*.jpg"))
    if not files:
        pytest.skip(f"no genki4k photos in {PHOTOS}")
    step = max(1, len(files) // count)
    return [Image.open(f).convert("RGB") for f in files[::step][:count]]


# --- Seed tints: bit-exact with the float64 JavaScript ---------------------------------


def test_registry_lists_seed_tints_then_channel_filters():
    assert list(imaging.FILTERS)[:10] == [
        *imaging.SEED_FILTERS,
        *("red_only", "green_only", "blue_only", "no_red", "no_green", "no_blue"),
    ]
    assert tuple(SEED_TINTS) == imaging.SEED_FILTERS
    for name in imaging.SEED_FILTERS:
        assert imaging.FILTERS[name].kind == "tint"
        assert imaging.FILTERS[name].factors == seed_factors(name)


def test_seed_tints_match_pure_python_loop_on_real_photos():
    for photo in real_photos(3):
        variants = imaging.render_variants(photo, imaging.SEED_FILTERS)
        for name in SEED_TINTS:
            assert variants[name].tobytes() == seed_tint_pixels(photo.tobytes(), name), name


def test_seed_tints_match_float64_reference_at_booth_sizes():
    for photo in real_photos(4):
        for size in ((640, 480), (1920, 1080)):
            frame = ImageOps.fit(photo, size, Image.Resampling.LANCZOS)
            variants = imaging.render_variants(frame, imaging.SEED_FILTERS)
            for name in SEED_TINTS:
                expected = imaging.seed_tint(np.asarray(frame), name)
                assert np.array_equal(np.asarray(variants[name]), expected), (name, size)


@functools.cache
def near_ties() -> np.ndarray:
    """Colours whose exact factor * luma is n + 0.5 for some channel, or one key below."""
    keys = np.arange(255_001, dtype=np.int64)
    near_tie = np.zeros(len(keys), dtype=bool)
    for color, density in SEED_TINTS.values():
        for c in color:
            numerator = c * density + 255 * (100 - density)
            for k in (keys, keys + 1):
                near_tie |= (2 * numerator * k) % 51_000_000 == 25_500_000
    colours = all_colours(0, 256)
    tied = colours[near_tie[colours.astype(np.int64) @ np.array([299, 587, 114])]]
    extremes = np.array([[0, 0, 0], [255, 255, 255], [0, 0, 1], [255, 0, 0]], dtype=np.uint8)
    picked = np.concatenate([tied, extremes])
    assert len(picked) > 10_000
    return picked


def test_seed_tints_exact_on_extremes_and_rounding_ties():
    picked = near_ties()
    image = Image.frombytes("RGB", (len(picked), 1), picked.tobytes())
    variants = imaging.render_variants(image, imaging.SEED_FILTERS)
    for name in SEED_TINTS:
        assert variants[name].tobytes() == seed_tint_pixels(picked.tobytes(), name), name


def test_float64_reference_is_the_seed_loop():
    """imaging.seed_tint against the pure-Python loop: ties, extremes and noise."""
    picked = np.concatenate([near_ties(), np.asarray(noise(64, 64)).reshape(-1, 3)])
    frame = np.asarray(noise(7, 5))
    for name in SEED_TINTS:
        expected = seed_tint_pixels(picked.tobytes(), name)
        assert imaging.seed_tint(picked, name).tobytes() == expected, name
        assert imaging.seed_tint(frame, name).shape == (5, 7, 3)
    with pytest.raises(ValueError, match="not a tint"):
        imaging.seed_tint(picked, "no_red")


def test_seed_tints_exact_for_all_16_million_colours():
    """Exhaustive: every 24-bit colour, every seed tint, against the float64 seed."""
    for first_red in range(0, 256, 16):
        colours = all_colours(first_red, 16)
        image = Image.frombytes("RGB", (4096, 256), colours.tobytes())
        variants = imaging.render_variants(image, imaging.SEED_FILTERS)
        for name in SEED_TINTS:
            got = np.asarray(variants[name]).reshape(-1, 3)
            assert np.array_equal(got, imaging.seed_tint(colours, name)), (name, first_red)


def test_apply_filter_equals_render_variants_and_copies():
    image = noise(24, 16)
    variants = imaging.render_variants(image, list(imaging.FILTERS))
    for name in imaging.FILTERS:
        single = imaging.apply_filter(image, name)
        assert single.mode == "RGB"
        assert single.size == image.size
        assert single.tobytes() == variants[name].tobytes()
    mapped = variants["sepia"]
    assert mapped.tobytes() == mapped.copy().tobytes() == mapped.convert("RGB").tobytes()


def test_channel_filters_keep_or_zero_channels():
    image = noise(8, 8)
    rgb = np.asarray(image)
    keeps = {
        "red_only": (1, 0, 0),
        "green_only": (0, 1, 0),
        "blue_only": (0, 0, 1),
        "no_red": (0, 1, 1),
        "no_green": (1, 0, 1),
        "no_blue": (1, 1, 0),
    }
    for name, keep in keeps.items():
        expected = rgb * np.array(keep, dtype=np.uint8)
        assert np.array_equal(np.asarray(imaging.apply_filter(image, name)), expected), name


def test_unknown_filter_is_a_value_error():
    with pytest.raises(ValueError, match="unknown filter"):
        imaging.apply_filter(noise(8, 8), "vintage")
    for render in (
        lambda names: imaging.encode_variants(noise(8, 8), names),
        lambda names: imaging.render_variant_files(noise(8, 8), names, imaging.Adjustments()),
        lambda names: imaging.render_strip_file(
            [noise(8, 8)], "horizontal_4", filter_name=names[1]
        ),
    ):
        with pytest.raises(ValueError, match="unknown filter"):
            render(["sepia", "vintage"])


# --- Adjustments -----------------------------------------------------------------------


def test_identity_adjustments_return_the_same_image():
    image = noise(8, 8)
    assert imaging.apply_adjustments(image, imaging.Adjustments()) is image


def test_adjustments_change_pixels_and_keep_size():
    image = noise(16, 8)
    out = imaging.apply_adjustments(image, imaging.Adjustments(1.2, 0.8, 0.0))
    assert out.size == image.size
    assert out.mode == "RGB"
    r, g, b = np.asarray(out).astype(int).transpose(2, 0, 1)
    assert np.abs(r - g).max() <= 1
    assert np.abs(g - b).max() <= 1


@pytest.mark.parametrize("field", ["brightness", "contrast", "saturation"])
@pytest.mark.parametrize("value", [-0.1, 2.01, float("nan")])
def test_adjustments_outside_range_are_refused(field, value):
    with pytest.raises(ValueError, match=field):
        imaging.Adjustments(**{field: value})


# --- Strips ----------------------------------------------------------------------------


# The animated layout shows frames in turn: tests/captures/test_animated_strip.py.
STILL_LAYOUTS = [name for name, spec in imaging.STRIP_LAYOUTS.items() if not spec.animated]


@pytest.mark.parametrize("layout", STILL_LAYOUTS)
@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_strip_places_each_frame_in_its_box(layout, count):
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (200, 200, 30)][:count]
    frames = [Image.new("RGB", (800, 600), c) for c in colours]
    strip = imaging.compose_strip(frames, layout)
    boxes = imaging.strip_frame_boxes(layout, count)
    assert strip.size == imaging.STRIP_LAYOUTS[layout].canvas_size(count)
    assert len(boxes) == count
    for (x, y, w, h), colour in zip(boxes, colours, strict=True):
        assert x >= 0
        assert x + w <= strip.width
        assert y >= 0
        assert y + h <= strip.height
        assert strip.getpixel((x + w // 2, y + h // 2)) == colour
        assert strip.getpixel((x, y)) == colour
        assert strip.getpixel((x + w - 1, y + h - 1)) == colour
    ys = sorted(y for _, y, _, _ in boxes)
    xs = sorted(x for x, _, _, _ in boxes)
    assert all(b - a >= boxes[0][3] for a, b in itertools.pairwise(ys)) or all(
        b - a >= boxes[0][2] for a, b in itertools.pairwise(xs)
    )


def test_horizontal_4_is_the_seed_strip():
    assert imaging.strip_frame_boxes("horizontal_4", 4) == [
        (640 * i, 0, 640, 480) for i in range(4)
    ]
    frames = [noise(640, 480) for _ in range(4)]
    strip = imaging.compose_strip(frames, "horizontal_4")
    assert strip.size == (2560, 480)
    assert strip.crop((1280, 0, 1920, 480)).tobytes() == frames[2].tobytes()
    assert imaging.compose_strip(frames[:2], "horizontal_4").size == (1280, 480)


def test_classic_2x6_is_a_300_dpi_print_strip_with_a_title_band():
    frames = [Image.new("RGB", (640, 480), (90, 90, 90))] * 4
    plain = imaging.compose_strip(frames, "classic_2x6")
    titled = imaging.compose_strip(frames, "classic_2x6", title="Ada & Grace\n2026")
    assert plain.size == (600, 1800)
    assert plain.info["dpi"] == (300, 300)
    band = (0, 1800 - imaging.STRIP_LAYOUTS["classic_2x6"].band_height, 600, 1800)
    assert plain.crop(band).getextrema() == ((255, 255),) * 3
    assert titled.crop(band).getextrema() != ((255, 255),) * 3
    assert b"JFIF\x00\x01\x01\x01\x01\x2c\x01\x2c" in imaging.encode_image(plain)  # 300 dpi
    long_title = imaging.compose_strip(frames, "classic_2x6", title="W" * 500)
    assert long_title.crop((0, band[1], 30, 1800)).getextrema() == ((255, 255),) * 3


def two_colour_logo() -> Image.Image:
    """A 200x100 logo: red and blue halves inside a 10 px transparent margin."""
    logo = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    logo.paste((220, 20, 20, 255), (10, 10, 100, 90))
    logo.paste((20, 20, 220, 255), (100, 10, 190, 90))
    return logo


def test_logo_sits_in_the_band_left_of_the_title_and_leaves_the_frames_alone():
    frames = [Image.new("RGB", (640, 480), (90, 90, 90))] * 4
    spec = imaging.STRIP_LAYOUTS["classic_2x6"]
    top = spec.height - spec.band_height
    titled = imaging.compose_strip(frames, "classic_2x6", title="Ada & Grace")
    branded = imaging.compose_strip(
        frames, "classic_2x6", title="Ada & Grace", logo=two_colour_logo()
    )
    assert branded.crop((0, 0, 600, top)).tobytes() == titled.crop((0, 0, 600, top)).tobytes()
    band = np.asarray(branded.crop((0, top, 600, 1800))).astype(int)
    red = np.argwhere((band[..., 0] > 200) & (band[..., 2] < 60))
    blue = np.argwhere((band[..., 2] > 200) & (band[..., 0] < 60))
    ink = np.argwhere(band.sum(axis=2) < 200)  # the title
    assert red.size
    assert blue.size
    assert ink.size
    assert red[:, 1].max() < blue[:, 1].min() < blue[:, 1].max() < ink[:, 1].min()
    rows = np.concatenate([red[:, 0], blue[:, 0]])
    box_width, box_height = imaging.logo_box("classic_2x6")
    assert rows.max() - rows.min() < box_height
    assert blue[:, 1].max() - red[:, 1].min() < box_width
    assert abs((rows.min() + rows.max()) / 2 - spec.band_height / 2) <= 1.5
    corner = band[rows.min() - 6, red[:, 1].min() - 6]  # transparent: the band's white
    assert band[0, 0].tolist() == [255] * 3
    assert corner.min() >= 240


def test_logo_alone_is_centred_and_band_less_layouts_ignore_it():
    frames = [noise(640, 480) for _ in range(4)]
    alone = np.asarray(imaging.compose_strip(frames, "classic_2x6", logo=two_colour_logo()))
    band = alone[1800 - imaging.STRIP_LAYOUTS["classic_2x6"].band_height :]
    columns = np.argwhere((band != 255).any(axis=(0, 2)))[:, 0]
    assert abs((columns.min() + columns.max()) / 2 - 300) <= 1
    seed = imaging.compose_strip(frames, "horizontal_4")
    with_logo = imaging.compose_strip(frames, "horizontal_4", title="x", logo=two_colour_logo())
    assert with_logo.tobytes() == seed.tobytes()


def test_decode_logo_keeps_transparency_and_drops_metadata():
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "logo-secret")
    decoded = imaging.decode_logo(encoded(two_colour_logo(), "PNG", pnginfo=info))
    assert (decoded.format, decoded.image.mode, decoded.image.size) == ("PNG", "RGBA", (200, 100))
    assert decoded.image.getpixel((20, 20)) == (220, 20, 20, 255)
    assert decoded.image.info == {}
    data = imaging.encode_image(decoded.image, decoded.format)
    assert b"logo-secret" not in data
    assert Image.open(io.BytesIO(data)).getchannel("A").getpixel((0, 0)) == 0  # alpha kept


def test_decode_logo_drops_an_opaque_alpha_and_scales_big_logos_down():
    opaque = imaging.decode_logo(encoded(Image.new("RGBA", (64, 32), (9, 9, 9, 255)), "PNG"))
    assert opaque.image.mode == "RGB"
    big = imaging.decode_logo(encoded(smooth(2000, 500), "JPEG"))
    assert big.format == "JPEG"
    assert big.image.size == (imaging.LOGO_MAX_SIDE, imaging.LOGO_MAX_SIDE // 4)
    keyed = imaging.decode_logo(encoded(Image.new("P", (32, 32), 0), "PNG", transparency=0))
    assert keyed.image.mode == "RGBA"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "invalid_image"),
        (b"GIF89a" + bytes(64), "invalid_image"),
        ("data:image/gif;base64,R0lG", "unsupported_type"),
        (b"\x89PNG\r\n\x1a\n" + bytes(11 * 1024 * 1024), "too_large"),
    ],
)
def test_decode_logo_refuses_what_uploads_refuse(data, code):
    with pytest.raises(InvalidImage) as refused:
        imaging.decode_logo(data)
    assert refused.value.code == code


def test_strip_centre_crops_other_aspect_ratios():
    wide = Image.new("RGB", (1920, 1080), (0, 0, 255))
    wide.paste((255, 0, 0), (0, 0, 240, 1080))  # a bar that a 4:3 centre crop removes
    strip = imaging.compose_strip([wide], "horizontal_4")
    assert strip.size == (640, 480)
    assert strip.getpixel((2, 240)) == (0, 0, 255)


@pytest.mark.parametrize("count", [0, 5])
def test_strip_refuses_no_frames_or_too_many(count):
    with pytest.raises(ValueError, match="1 to 4 frames"):
        imaging.compose_strip([noise(16, 16)] * count, "classic_2x6")


def test_strip_refuses_unknown_layout():
    with pytest.raises(ValueError, match="unknown strip layout"):
        imaging.compose_strip([noise(16, 16)], "polaroid")


# --- Decoding: RELIABILITY.md cases 17 to 29 -------------------------------------------


def psd_bytes() -> bytes:
    return b"8BPS\x00\x01" + bytes(6) + struct.pack(">HIIHH", 3, 32, 32, 8, 3) + bytes(64)


def fits_bytes() -> bytes:
    cards = ["SIMPLE  =                    T", "BITPIX  =                    8", "END"]
    return "".join(card.ljust(80) for card in cards).ljust(2880).encode() + bytes(2880)


def ztxt_bomb() -> bytes:
    bomb = png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"\0" * 5_000_000))
    return png_header_only(1, 1, bomb)


# RELIABILITY.md section 2: the exact user-facing messages and statuses.
MESSAGES = {
    "too_large": ("Photo too large (max 10 MB).", 413),
    "invalid_base64": ("Invalid base64 data.", 400),
    "unsupported_type": ("Unsupported image type. Allowed: PNG, JPEG.", 400),
    "invalid_image": (INVALID, 400),
    "too_many_pixels": ("The image has too many pixels.", 400),
    "too_small": ("The image is too small.", 400),
    "invalid_dimensions": ("The image has invalid dimensions.", 400),
}
Upload = Callable[[], "bytes | str"]
BAD_UPLOADS: dict[str, tuple[Upload, str]] = {
    "empty": (lambda: b"", "invalid_image"),
    "not an image": (lambda: b"hello, world" * 10, "invalid_image"),
    "gif": (lambda: encoded(noise(32, 32), "GIF"), "invalid_image"),
    "bmp": (lambda: encoded(noise(32, 32), "BMP"), "invalid_image"),
    "tiff": (lambda: encoded(noise(32, 32), "TIFF"), "invalid_image"),
    "psd": (psd_bytes, "invalid_image"),
    "fits": (fits_bytes, "invalid_image"),
    "gif declared png": (
        lambda: data_url("image/png", encoded(noise(32, 32), "GIF")),
        "invalid_image",
    ),
    "truncated png": (lambda: encoded(noise(64, 64), "PNG")[:3000], "invalid_image"),
    "truncated jpeg": (lambda: encoded(noise(64, 64), "JPEG")[:3000], "invalid_image"),
    "ztxt bomb": (ztxt_bomb, "invalid_image"),
    "20000x20000": (lambda: png_header_only(20000, 20000), "too_many_pixels"),
    "10000x10000": (lambda: png_header_only(10000, 10000), "too_many_pixels"),
    "5000x5000": (lambda: png_header_only(5000, 5000), "too_many_pixels"),
    "1x1": (lambda: encoded(noise(1, 1), "PNG"), "too_small"),
    "15x64": (lambda: encoded(noise(15, 64), "PNG"), "too_small"),
    "100000x1": (lambda: png_header_only(100000, 1), "invalid_dimensions"),
    "9:1": (lambda: encoded(noise(144, 16), "PNG"), "invalid_dimensions"),
    "bad base64": (lambda: "data:image/png;base64,iVBOR@@@w0K!!", "invalid_base64"),
    "base64 with newline": (
        lambda: data_url("image/png", encoded(noise(16, 16), "PNG")).replace("A", "A\n", 1),
        "invalid_base64",
    ),
    "non-ascii base64": (lambda: "data:image/png;base64,iVBORé==", "invalid_base64"),
    "svg": (lambda: "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=", "unsupported_type"),
    "svg as bytes": (lambda: b"data:image/svg+xml;base64,PHN2Zz4=", "unsupported_type"),
    "html": (lambda: "data:text/html;base64,PHNjcmlwdD4=", "unsupported_type"),
    "gif type": (lambda: "data:image/gif;base64,R0lGODlh", "unsupported_type"),
    "charset": (lambda: "data:image/png;charset=utf-8;base64,iVBORw0KGgo=", "unsupported_type"),
    "not base64": (lambda: "data:image/png,iVBORw0KGgo=", "unsupported_type"),
    "no prefix": (lambda: "iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB", "unsupported_type"),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_bad_upload_is_refused_with_its_message(case):
    make, code = BAD_UPLOADS[case]
    message, status = MESSAGES[code]
    with pytest.raises(InvalidImage) as caught:
        imaging.decode_image(make())
    assert (caught.value.code, caught.value.message, caught.value.status) == (code, message, status)
    assert str(caught.value) == message


def test_oversized_base64_is_refused_before_decoding(monkeypatch):
    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded an oversized body")

    monkeypatch.setattr(base64, "b64decode", no_decoding)
    url = "data:image/png;base64," + "A" * (imaging.MAX_BASE64_CHARS + 4)
    with pytest.raises(InvalidImage) as caught:
        imaging.decode_upload(url)
    assert caught.value.status == 413
    assert caught.value.message == "Photo too large (max 10 MB)."


def test_oversized_bytes_are_refused():
    assert imaging.MAX_BASE64_CHARS == 13_981_016
    for data in (
        b"\x89PNG\r\n\x1a\n" + bytes(imaging.MAX_UPLOAD_BYTES),
        "data:image/jpeg;base64," + "A" * imaging.MAX_BASE64_CHARS,  # 10 MiB + 2 decoded
    ):
        with pytest.raises(InvalidImage) as caught:
            imaging.decode_upload(data)
        assert (caught.value.code, caught.value.status) == ("too_large", 413)


def test_pixel_cap_and_pillow_bomb_settings():
    assert Image.MAX_IMAGE_PIXELS is not None
    assert imaging.MAX_PIXELS == 4096 * 4096 < Image.MAX_IMAGE_PIXELS
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    with pytest.raises(InvalidImage) as at_cap:  # passes the cap, then has no pixel data
        imaging.decode_upload(png_header_only(4096, 4096))
    assert at_cap.value.code == "invalid_image"
    with pytest.raises(InvalidImage) as above_cap:
        imaging.decode_upload(png_header_only(4097, 4096))
    assert above_cap.value.code == "too_many_pixels"


def test_pillow_bomb_warning_is_an_error(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    for side in (40, 50):  # 1600 px warns, 2500 px raises in Pillow
        with pytest.raises(InvalidImage, match="too many pixels"):
            imaging.decode_upload(encoded(noise(side, side), "PNG"))


def test_invalid_image_survives_pickling():
    error = pickle.loads(pickle.dumps(InvalidImage("too_large")))  # noqa: S301 (our own bytes)
    assert (error.code, error.status, error.message) == ("too_large", 413, str(error))


@pytest.mark.parametrize("kind", ["image/png", "image/jpeg", "image/jpg", "IMAGE/PNG"])
def test_data_urls_decode_and_format_comes_from_the_bytes(kind):
    for fmt in ("PNG", "JPEG"):
        decoded = imaging.decode_upload(data_url(kind, encoded(noise(32, 24), fmt)))
        assert (decoded.format, decoded.width, decoded.height) == (fmt, 32, 24)
        assert decoded.image.mode == "RGB"
        assert decoded.image.info == {}
    as_bytes = data_url(kind, encoded(noise(16, 16), "PNG")).encode()
    assert imaging.decode_upload(as_bytes).format == "PNG"


def test_exif_orientation_applied_and_gps_xmp_dropped():
    stored = Image.new("RGB", (80, 40), (220, 20, 20))
    stored.paste((20, 20, 220), (40, 0, 80, 40))  # left red, right blue
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    exif[0x927C] = b"MakerNote secret"
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 12.5)}
    xmp = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>xmp-secret</x:xmpmeta>"
    decoded = imaging.decode_upload(encoded(stored, "JPEG", exif=exif, xmp=xmp, quality=95))
    image = decoded.image
    assert (decoded.width, decoded.height) == image.size == (40, 80)
    pixels = np.asarray(image)
    assert pixels[10, 20, 0] > 180  # the stored left (red) is now the top
    assert pixels[70, 20, 2] > 180
    assert image.info == {}
    assert len(image.getexif()) == 0
    for fmt in ("JPEG", "PNG"):
        data = imaging.encode_image(image, fmt)
        assert b"Exif" not in data
        assert b"xmp-secret" not in data
        assert b"MakerNote" not in data
        reopened = Image.open(io.BytesIO(data))
        assert len(reopened.getexif()) == 0
        assert "xmp" not in reopened.info


def test_png_text_exif_and_icc_dropped():
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "tEXt-secret")
    info.add_itxt("Author", "iTXt-secret")
    exif = Image.Exif()
    exif[0x0131] = "eXIf-secret"
    raw = encoded(noise(32, 32), "PNG", pnginfo=info, exif=exif, icc_profile=b"icc-secret")
    image = imaging.decode_image(raw)
    assert image.info == {}
    data = imaging.encode_image(image, "PNG")
    assert not any(s in data for s in (b"tEXt-secret", b"iTXt-secret", b"eXIf-secret", b"icc-"))


def test_encode_image_writes_no_metadata_from_info():
    image = noise(32, 32)
    image.info.update(
        exif=b"Exif\x00\x00junk", icc_profile=b"icc-secret", comment=b"comment-secret",
        transparency=(0, 0, 0), xmp=b"xmp-secret", dpi=(72, 72),
    )  # fmt: skip
    for fmt in ("JPEG", "PNG"):
        data = imaging.encode_image(image, fmt)
        assert not any(s in data for s in (b"secret", b"Exif", b"tRNS", b"iCCP"))
        assert Image.open(io.BytesIO(data)).info.get("dpi") == pytest.approx((72, 72), abs=0.01)
    with pytest.raises(ValueError, match="cannot encode"):
        imaging.encode_image(image, "GIF")


def test_polyglot_is_reencoded_without_the_payload():
    payload = b"<html><script>alert(1)</script></html>"
    raw = encoded(noise(32, 32), "PNG") + payload
    decoded = imaging.decode_upload(raw)
    assert b"<script>" not in imaging.encode_image(decoded.image, decoded.format)
    original = imaging.encode_original(decoded)
    assert original.format == "PNG"
    assert b"<script>" not in original.data


def test_transparency_is_composited_on_white_and_modes_become_rgb():
    rgba = Image.new("RGBA", (16, 16), (255, 0, 0, 0))
    rgba.paste((0, 0, 255, 255), (0, 0, 8, 16))
    image = imaging.decode_image(encoded(rgba, "PNG"))
    assert image.getpixel((12, 4)) == (255, 255, 255)
    assert image.getpixel((2, 4)) == (0, 0, 255)
    palette = rgba.convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    assert imaging.decode_image(encoded(palette, "PNG", transparency=0)).mode == "RGB"
    gray16 = Image.new("I;16", (16, 16), 0x8000)
    assert imaging.decode_image(encoded(gray16, "PNG")).getpixel((3, 3)) == (128, 128, 128)
    cmyk = imaging.decode_image(encoded(Image.new("CMYK", (16, 16), (0, 0, 0, 0)), "JPEG"))
    assert cmyk.mode == "RGB"
    assert np.asarray(cmyk).min() > 245


# --- Encoding, thumbnails and the whole capture ----------------------------------------


@pytest.mark.parametrize(
    ("size", "expected"),
    [((640, 480), (320, 240)), ((1920, 1080), (320, 180)), ((1000, 750), (320, 240)),
     ((480, 640), (240, 320)), ((200, 100), (200, 100))],
)  # fmt: skip
def test_thumbnail_keeps_aspect_and_fits(size, expected):
    image = noise(*size)
    thumb = imaging.make_thumbnail(image)
    assert thumb.size == expected
    assert thumb is not image


def stored(original: imaging.EncodedImage) -> Image.Image:
    """Load a stored original as the variants task does (``services._load``)."""
    image = Image.open(io.BytesIO(original.data), formats=imaging.ALLOWED_FORMATS)
    image.load()
    return image.convert("RGB")


def test_capture_pipeline_encodes_everything():
    upload = encoded(smooth(640, 480), "JPEG", quality=95)
    original = imaging.encode_original(imaging.decode_upload(upload))
    assert (original.format, original.content_type) == ("JPEG", "image/jpeg")
    assert (original.width, original.height) == (640, 480)
    assert Image.open(io.BytesIO(original.thumbnail)).size == (320, 240)
    image = stored(original)
    variants = imaging.render_variant_files(image, imaging.SEED_FILTERS, imaging.Adjustments())
    assert list(variants) == list(imaging.SEED_FILTERS)
    reference = imaging.render_variants(imaging.decode_image(upload), imaging.SEED_FILTERS)
    for name, variant in variants.items():
        decoded = Image.open(io.BytesIO(variant.data))
        assert (variant.width, variant.height, decoded.size) == (640, 480, (640, 480))
        assert (variant.format, decoded.mode) == ("JPEG", "L" if name == "grayscale" else "RGB")
        diff = np.abs(np.asarray(decoded.convert("RGB"), int) - np.asarray(reference[name], int))
        assert diff.mean() < 1.5, name
        assert Image.open(io.BytesIO(variant.thumbnail)).size == (320, 240)


def test_capture_pipeline_keeps_png_originals_png():
    upload = data_url("image/png", encoded(noise(64, 48), "PNG"))
    original = imaging.encode_original(imaging.decode_upload(upload), thumb_side=32)
    assert original.format == "PNG"
    assert original.extension == "png"
    assert original.data.startswith(b"\x89PNG")
    assert Image.open(io.BytesIO(original.thumbnail)).size == (32, 24)
    assert imaging.decode_image(original.data).tobytes() == imaging.decode_image(upload).tobytes()
    variants = imaging.render_variant_files(stored(original), ["no_red"], imaging.Adjustments())
    assert variants["no_red"].data.startswith(b"\xff\xd8")


def test_variant_files_apply_adjustments_and_encode_png_on_request():
    image = smooth(96, 64)
    adjust = imaging.Adjustments(brightness=1.3, saturation=0.5)
    names = ["sepia", "no_green"]
    rendered = imaging.render_variants(imaging.apply_adjustments(image, adjust), names)
    as_png = imaging.render_variant_files(image, names, adjust, fmt="png", thumb_side=48)
    as_jpeg = imaging.render_variant_files(image, names, adjust, quality=80)
    assert list(as_png) == list(as_jpeg) == names
    for name in names:
        png = as_png[name]
        assert (png.format, png.width, png.height) == ("PNG", 96, 64)
        assert Image.open(io.BytesIO(png.data)).tobytes() == rendered[name].tobytes()
        assert Image.open(io.BytesIO(png.thumbnail)).size == (48, 32)
        assert as_jpeg[name].data == imaging.encode_image(rendered[name], quality=80)
    with pytest.raises(ValueError, match="cannot encode"):
        imaging.render_variant_files(image, names, adjust, fmt="GIF")


def test_strip_file_filters_composes_and_encodes():
    frames = [smooth(640, 480) for _ in range(4)]
    strip = imaging.render_strip_file(
        frames, "classic_2x6", filter_name="sepia", title="Ada", fmt="PNG", thumb_side=300
    )
    expected = imaging.compose_strip(
        [imaging.apply_filter(f, "sepia") for f in frames], "classic_2x6", title="Ada"
    )
    assert (strip.format, strip.width, strip.height) == ("PNG", 600, 1800)
    assert strip.data == imaging.encode_image(expected, "PNG")
    assert Image.open(io.BytesIO(strip.thumbnail)).size == (100, 300)
    plain = imaging.render_strip_file(frames, "horizontal_4", filter_name="")
    assert plain.format == "JPEG"
    assert plain.data == imaging.encode_image(imaging.compose_strip(frames, "horizontal_4"))


def test_encode_variants_encodes_the_same_pixels_as_render_variants():
    image = smooth(96, 64)
    encoded_variants = imaging.encode_variants(image, ["sepia", "grayscale", "no_blue"])
    rendered = imaging.render_variants(image, ["sepia", "grayscale", "no_blue"])
    assert encoded_variants["sepia"].data == imaging.encode_image(rendered["sepia"])
    assert encoded_variants["no_blue"].data == imaging.encode_image(rendered["no_blue"])
    gray = Image.open(io.BytesIO(encoded_variants["grayscale"].data))
    via_rgb = Image.open(io.BytesIO(imaging.encode_image(rendered["grayscale"])))
    assert gray.mode == "L"
    assert np.array_equal(np.asarray(gray), np.asarray(via_rgb)[..., 0])
    assert Image.open(io.BytesIO(encoded_variants["sepia"].thumbnail)).size == (96, 64)


def test_without_pillow_private_api_pixels_and_metadata_are_the_same(monkeypatch):
    """The public fallback of ``_pillow.plain_image``: copies, same pixels, no metadata."""
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x927C] = b"MakerNote secret"
    upload = encoded(smooth(48, 32), "JPEG", exif=exif, xmp=b"<x:xmpmeta>secret</x:xmpmeta>")
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "logo-secret")
    logo = encoded(two_colour_logo(), "PNG", pnginfo=info)
    image = noise(20, 10)

    def run() -> list[Image.Image]:
        return [
            imaging.decode_upload(upload).image,
            imaging.decode_logo(logo).image,
            *imaging.render_variants(image, imaging.SEED_FILTERS).values(),
        ]

    shared = run()
    calls: list[object] = []

    def private_api_fails(*args: object) -> Image.Image:
        calls.append(args)
        raise AttributeError("no such private API")

    monkeypatch.setattr(_pillow, "_share", private_api_fails)
    copied = run()
    assert len(calls) == len(copied)
    for fast, slow in zip(shared, copied, strict=True):
        assert type(slow) is type(fast) is Image.Image
        assert (slow.mode, slow.size) == (fast.mode, fast.size)
        assert slow.tobytes() == fast.tobytes()
        assert slow.info == fast.info == {}
        assert len(slow.getexif()) == len(fast.getexif()) == 0
    assert [im.mode for im in copied[:3]] == ["RGB", "RGBA", "RGB"]
    assert copied[0].size == (32, 48)  # the EXIF rotation still applied
    assert imaging.encode_image(copied[0]) == imaging.encode_image(shared[0])
