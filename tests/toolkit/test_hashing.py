"""removal_desk_toolkit.hashing: imagehash's exact bits without scipy on the common path, PDQ as pdqhash
computes it, refusals with a reason and a maintainer's words; the server uses these very functions."""

from __future__ import annotations

import io
import struct
import zlib

import imagehash
import numpy as np
import pdqhash
import pytest
from PIL import Image
from removal_desk_toolkit import hashing
from removal_desk_toolkit.hashing import (
    ImageRejected,
    code_to_hex,
    compute_hashes,
    hashes_of_image,
    hex_to_code,
    open_image,
)

import registry.hashing
from tests.helpers import PHOTOS, image_bytes, photo, photo_bytes

MAX = 50_000_000
SAMPLES = sorted(p.name for p in PHOTOS.iterdir() if p.suffix in (".png", ".jpg"))


def images_of_every_kind() -> list[Image.Image]:
    """Photos and crops of them, and the low-information images where coefficients tie at the median."""
    rng = np.random.default_rng(7)
    images = []
    for name in SAMPLES:
        image = photo(name).convert("RGB")
        images.append(image)
        width, height = image.size
        for _ in range(6):
            x, y = int(rng.integers(0, width // 3)), int(rng.integers(0, height // 3))
            images.append(image.crop((x, y, x + width // 2, y + height // 2)))
    for value in range(0, 256, 15):
        images.append(Image.new("RGB", (64, 48), (value, 255 - value, value // 2)))
    for k in range(30):
        ramp = np.linspace(0, 255 * rng.random(), 160)[None, :].repeat(120, 0)
        gray = ramp if k % 2 else ramp.T
        images.append(Image.fromarray(gray.astype(np.uint8)).convert("RGB"))
    for _ in range(30):
        images.append(Image.fromarray(rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)))
    images.append(Image.new("RGB", (32, 32), "white"))
    return images


def test_phash_and_dhash_are_the_bits_imagehash_prints_for_photos_flats_gradients_and_noise():
    images = images_of_every_kind()
    assert len(images) > 150
    for image in images:
        hashes = hashes_of_image(image)
        assert code_to_hex(hashes.phash) == str(imagehash.phash(image))
        assert code_to_hex(hashes.dhash) == str(imagehash.dhash(image))


def test_the_turned_variants_are_the_phash_of_the_turned_thumbnail():
    image = photo("astronaut.png")
    thumbnail = np.asarray(image.convert("RGB").convert("L").resize((32, 32), Image.Resampling.LANCZOS))
    turned = [
        np.fliplr,
        np.flipud,
        np.rot90,
        lambda a: np.rot90(a, 2),
        lambda a: np.rot90(a, 3),
        np.transpose,
    ]
    expected = [str(imagehash.phash(Image.fromarray(np.ascontiguousarray(t(thumbnail))))) for t in turned]
    expected.append(str(imagehash.phash(Image.fromarray(np.ascontiguousarray(np.rot90(thumbnail, 2).T)))))
    variants = hashes_of_image(image).phash_variants
    assert [code_to_hex(v) for v in variants] == expected
    mirrored = hex_to_code(str(imagehash.phash(image.transpose(Image.Transpose.FLIP_LEFT_RIGHT))))
    assert hashing.hamming64(variants[0], mirrored) <= 2
    assert hashes_of_image(image, variants=False).phash_variants == ()


def test_pdq_is_pdqhashs_of_the_decoded_image():
    image = photo("coffee.png").convert("RGB")
    bits, quality = pdqhash.compute(np.asarray(image))
    hashes = hashes_of_image(image)
    assert hashes.pdq == np.packbits(bits.astype(np.uint8)).tobytes() and len(hashes.pdq) == 32
    assert hashes.pdq_quality == quality


def test_jpegs_are_draft_decoded_and_stay_within_two_bits_of_a_full_decode():
    out = io.BytesIO()
    photo("chelsea.png").convert("RGB").resize((4000, 3000)).save(out, "JPEG", quality=90)
    data = out.getvalue()
    assert open_image(data, max_pixels=MAX, draft=True).size == (1000, 750)
    assert open_image(data, max_pixels=MAX).size == (4000, 3000)
    full = hex_to_code(str(imagehash.phash(Image.open(io.BytesIO(data)))))
    assert hashing.hamming64(compute_hashes(data, max_pixels=MAX).phash, full) <= 2


def test_the_server_computes_with_these_very_functions():
    for name in ("hex_to_code", "code_to_hex", "pdq_to_hex", "hex_to_pdq", "pdq_distance", "hamming64"):
        assert getattr(registry.hashing, name) is getattr(hashing, name)
    assert registry.hashing.ImageHashes is hashing.ImageHashes
    assert issubclass(registry.hashing.ImageRejected, ImageRejected)
    data = photo_bytes("rocket.jpg", "JPEG", quality=90)
    assert registry.hashing.compute_hashes(data, max_pixels=MAX) == compute_hashes(data, max_pixels=MAX)


def huge_png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


@pytest.mark.parametrize(
    ("data", "reason", "words"),
    [
        (b"", "unidentified", "the file is empty (0 bytes)"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "unidentified", "an SVG drawing"),
        (b'\xef\xbb\xbf<?xml version="1.0"?>\n<svg/>', "unidentified", "an SVG drawing"),
        (b"<!DOCTYPE html><html><body>Not found</body></html>", "unidentified", "an HTML page"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "unidentified", "a PDF document"),
        (b"\0\0\0\x18ftypheic\0\0\0\0mif1heic", "unidentified", "a HEIC/HEIF photo"),
        (b"PK\x03\x04\x14\0\0\0", "unidentified", "a ZIP archive"),
        (b"just some words\n", "unidentified", "a text file, not an image (it starts 'just some words\\n')"),
        (b"\x00\x01\x02\x03\xff\xfe", "unidentified", "it starts with the bytes 00 01 02 03"),
        (image_bytes(photo("chelsea.png"), "GIF"), "format", "a GIF image; the registry hashes only JPEG"),
        (image_bytes(photo("chelsea.png").convert("RGB"), "BMP"), "format", "a BMP image"),
        (huge_png_header(20_000, 20_000), "bomb", "claims more than 50,000,000 pixels"),
        (huge_png_header(8000, 7000), "too_many_pixels", "8000 x 7000 pixels (56,000,000)"),
        (photo_bytes("chelsea.png")[:5000], "damaged", "the file is cut short"),
    ],
)
def test_refusals_carry_their_reason_and_a_maintainers_words(data, reason, words):
    with pytest.raises(ImageRejected) as raised:
        open_image(data, max_pixels=MAX, draft=True)
    assert raised.value.reason == reason
    assert words in str(raised.value)
    assert "upload" not in str(raised.value)  # the artists' words are the server's


def test_the_server_words_the_same_refusal_for_artists():
    gif = image_bytes(photo("chelsea.png"), "GIF")
    with pytest.raises(registry.hashing.ImageRejected) as raised:
        registry.hashing.open_image(gif, max_pixels=MAX)
    assert str(raised.value) == "GIF files are not accepted; upload a JPEG, PNG or WebP image."
    assert raised.value.reason == "format" and raised.value.details == {"format": "GIF"}
