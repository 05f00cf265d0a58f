"""Hashing: the same values imagehash prints, safe decoding, metadata stripped."""

from __future__ import annotations

import io
import struct
import zlib

import imagehash
import pytest
from PIL import Image

from registry.hashing import (
    ImageRejected,
    code_to_hex,
    compute_hashes,
    hamming64,
    hex_to_code,
    open_image,
    sanitize,
)
from tests.helpers import image_bytes, photo, photo_bytes

MAX = 50_000_000


def huge_png_header(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR claiming a huge size, with a tiny IDAT: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("name", ["chelsea.png", "astronaut.png", "coffee.png", "camera.png"])
def test_it_gives_the_values_imagehash_prints(name):
    hashes = compute_hashes(photo_bytes(name), max_pixels=MAX)
    rgb = photo(name).convert("RGB")
    assert code_to_hex(hashes.phash) == str(imagehash.phash(rgb))
    assert code_to_hex(hashes.dhash) == str(imagehash.dhash(rgb))
    assert hashes.pdq is not None and len(hashes.pdq) == 32
    assert 0 <= hashes.pdq_quality <= 100


@pytest.mark.parametrize("name", ["rocket.jpg", "hubble_deep_field.jpg", "retina.jpg", "chelsea.png"])
def test_draft_decoding_of_a_large_jpeg_moves_phash_by_at_most_two_bits(name):
    big = photo(name).convert("RGB").resize((4000, 3000))
    data = image_bytes(big, "JPEG", quality=90)
    fast = compute_hashes(data, max_pixels=MAX)
    full = imagehash.phash(Image.open(io.BytesIO(data)).convert("RGB"))
    assert hamming64(fast.phash, hex_to_code(str(full))) <= 2


def test_hex_conversions_are_strict():
    assert code_to_hex(hex_to_code("8000000000000000")) == "8000000000000000"
    for bad in ["", "123", "g" * 16, "A" * 15, "0" * 17, None, 12]:
        with pytest.raises(ValueError):
            hex_to_code(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "not an image"),
        (b"hello, this is text", "not an image"),
        (photo_bytes("chelsea.png")[:5000], "damaged or incomplete"),
        (image_bytes(photo("chelsea.png"), "GIF"), "GIF files are not accepted"),
        (image_bytes(photo("chelsea.png").convert("RGB"), "BMP"), "BMP files are not accepted"),
        (huge_png_header(8_000, 8_000), "8000 x 8000 pixels, more than the 50,000,000 allowed"),
        (huge_png_header(20_000, 20_000), "more pixels than the 50,000,000 allowed"),
    ],
    ids=["empty", "text", "truncated-png", "gif", "bmp", "over-limit", "bomb"],
)
def test_it_rejects_bad_files_with_a_readable_reason(data, words):
    with pytest.raises(ImageRejected) as excinfo:
        open_image(data, max_pixels=MAX)
    assert words in str(excinfo.value)


def test_it_rejects_a_truncated_jpeg():
    data = photo_bytes("rocket.jpg", "JPEG", quality=90)
    with pytest.raises(ImageRejected, match="damaged or incomplete"):
        open_image(data[: len(data) // 2], max_pixels=MAX)


def test_it_rejects_pillows_own_bomb_limit_as_a_readable_error():
    # Past Pillow's hard limit (2x MAX_IMAGE_PIXELS) Image.open itself raises.
    with pytest.raises(ImageRejected, match="more pixels than"):
        open_image(huge_png_header(60_000, 60_000), max_pixels=10**10)


def test_sanitize_strips_metadata_and_applies_orientation():
    image = photo("chelsea.png").convert("RGB")  # 451x300, landscape
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    exif[0x010F] = "SecretCam"  # camera make
    data = image_bytes(image, "JPEG", quality=95, exif=exif.tobytes())
    clean = sanitize(data, max_pixels=MAX)
    reopened = Image.open(io.BytesIO(clean.content))
    assert clean.format == "JPEG" and clean.extension == "jpg"
    assert reopened.size == (300, 451) == (clean.width, clean.height)
    assert not reopened.getexif()
    assert b"SecretCam" not in clean.content


def test_sanitize_keeps_png_transparency():
    clean = sanitize(photo_bytes("horse.png"), max_pixels=MAX)
    assert Image.open(io.BytesIO(clean.content)).mode == "RGBA"
