"""From image bytes to the registry's perceptual hashes, safely. No Django: pure functions.

The one module that computes hashes: the registry imports it for uploads and index imports
(registry/hashing.py adds only what is the server's own, such as messages for artists in
their language), and `removal-desk-hash` runs it on a maintainer's machine, so every side of
a match hashes the same way.

Hashes are 64-bit codes (imagehash pHash and dHash: exactly the values
`str(imagehash.phash(img))` and `str(imagehash.dhash(img))` print for the decoded image)
stored as signed integers, and PDQ (256 bits, with its quality score).
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pdqhash
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
# JPEG draft decoding scales by 1/2, 1/4 or 1/8 while staying at least this
# large: pHash and dHash look at 32x32 and 9x8 thumbnails and PDQ at 64x64,
# so a 12 MP photo need not be decoded at full size. Pillow picks the largest
# power-of-two reduction that keeps both sides at least this large, so a
# 4000x3000 photo decodes at 1000x750 (anything up to 750 high) or 2000x1500.
# Measured on the sample photos upscaled to 12 MP (tests/registry/
# test_hashing_drift.py, bench/RESULTS.md): at 1000x750 pHash moves by at most
# 2 bits and PDQ by at most 12, except the brick texture (16 bits; the same
# 16 with a Lanczos resize of the full decode, so it is the resolution, not
# the draft decoder); 2000x1500 keeps PDQ within 6 bits but costs 4x (PDQ's
# own float conversion dominates) and loses the 5x speed-up entirely.
DRAFT_SIZE = (512, 512)
_ORIENTATION = 0x0112  # the EXIF tag; 2-8 mean mirrored or turned
_TURNED = frozenset(range(2, 9))
_HEX64 = re.compile(r"^[0-9a-f]{16}$")
_HEX256 = re.compile(r"^[0-9a-f]{64}$")


class ImageRejected(ValueError):
    """The bytes are not an image the registry hashes; the message says why.

    `reason` names the case ("format", "unidentified", "too_many_pixels", "bomb", "damaged")
    and `details` holds its facts (format, kind, width, height, limit, error), so a caller
    can word it for its own readers: this module's messages are for data set maintainers;
    the server words them for artists, in their language.
    """

    def __init__(self, message: str, *, reason: str = "other", details: Mapping[str, Any] | None = None):
        super().__init__(message)
        self.reason = reason
        self.details: dict[str, Any] = dict(details or {})


@dataclass(frozen=True)
class ImageHashes:
    phash: int
    dhash: int
    pdq: bytes | None
    pdq_quality: int | None
    # pHash of the image mirrored and turned by right angles: a repost that was
    # flipped or rotated has (within a few bits) one of these as its pHash.
    phash_variants: tuple[int, ...] = ()


def _to_signed(value: int) -> int:
    return value - (1 << 64) if value >= (1 << 63) else value


def hex_to_code(text: str) -> int:
    """'b15fe6465121175e' -> signed 64-bit integer. Raises ValueError with a readable message."""
    value = text.strip().lower() if isinstance(text, str) else ""
    if not _HEX64.match(value):
        raise ValueError("must be 16 lowercase hexadecimal characters")
    return _to_signed(int(value, 16))


def code_to_hex(code: int | None) -> str | None:
    if code is None:
        return None
    return f"{code & 0xFFFFFFFFFFFFFFFF:016x}"


def hex_to_pdq(text: str) -> bytes:
    value = text.strip().lower() if isinstance(text, str) else ""
    if not _HEX256.match(value):
        raise ValueError("must be 64 lowercase hexadecimal characters")
    return bytes.fromhex(value)


def pdq_to_hex(value: bytes | memoryview | None) -> str | None:
    return None if value is None else bytes(value).hex()


def _bits_to_code(bits: np.ndarray) -> int:
    """An 8x8 boolean array -> the signed code of imagehash's hex (row-major, first bit highest)."""
    return _to_signed(int.from_bytes(np.packbits(bits.ravel()).tobytes(), "big"))


# ---------------------------------------------------------------- decoding


def _kind_of(data: bytes) -> str:
    """What a file that Pillow cannot open seems to be, from its first bytes."""
    head = data[:4096]
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not data:
        return "empty"
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text):
        return "svg"
    if text.startswith((b"<!doctype html", b"<html")):
        return "html"
    if head.startswith(b"%PDF"):
        return "pdf"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"):
            return "heic"
        return "avif" if brand in (b"avif", b"avis") else "media"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    try:
        decoded = head.decode("utf-8")
    except UnicodeDecodeError:
        # A cut in the middle of a character at the 4096-byte boundary is still text.
        try:
            decoded = head[:-3].decode("utf-8") if len(head) > 3 else ""
        except UnicodeDecodeError:
            decoded = ""
    if decoded and "\x00" not in decoded:
        return "text"
    return "unknown"


_ONLY = "the registry hashes only JPEG, PNG and WebP files"
_KINDS = {
    "empty": "the file is empty (0 bytes)",
    "svg": f"an SVG drawing (vector graphics, not pixels); {_ONLY}, so render it to PNG and hash that",
    "html": "an HTML page, not an image (a failed download?)",
    "pdf": f"a PDF document, not an image; {_ONLY}",
    "heic": f"a HEIC/HEIF photo (as phones save them); {_ONLY}, so convert it to JPEG and hash that",
    "avif": f"an AVIF image; {_ONLY}, so convert it to PNG or JPEG and hash that",
    "media": f"a video or other ISO media file, not an image; {_ONLY}",
    "zip": "a ZIP archive, not an image; unpack it and hash the folder",
}
_FORMATS = {
    "GIF": "a GIF image",
    "MPO": "an MPO image (a multi-picture JPEG, as some cameras write)",
    "ICO": "an icon (ICO)",
}


def maintainer_message(reason: str, details: Mapping[str, Any]) -> str:
    """The reason an ImageRejected gives, in a data set maintainer's words (English)."""
    if reason == "format":
        fmt = details.get("format")
        what = _FORMATS.get(fmt, f"a {fmt} image") if fmt else "a file type Pillow cannot name"
        return f"{what}; {_ONLY}, so convert it (to PNG, say) and hash the converted file"
    if reason == "unidentified":
        kind = details.get("kind", "unknown")
        if kind == "text":
            start = details.get("start", "")
            return f"a text file, not an image (it starts {start!r})"
        if kind in _KINDS:
            return _KINDS[kind]
        start = details.get("start", "")
        return f"not an image file Pillow can read (it starts with the bytes {start}); {_ONLY}"
    if reason == "too_many_pixels":
        width, height, limit = details["width"], details["height"], details["limit"]
        return (
            f"the image is {width} x {height} pixels ({width * height:,}), more than the limit of "
            f"{limit:,}; the registry refuses images that large (UPLOAD_MAX_PIXELS)"
        )
    if reason == "bomb":
        return (
            f"the image claims more than {details['limit']:,} pixels (a decompression bomb?); "
            "the registry refuses images that large (UPLOAD_MAX_PIXELS)"
        )
    if reason == "damaged":
        if details.get("truncated"):
            return f"the file is cut short ({details['error']}); copy or download it again"
        return f"the image data is damaged ({details['error']}); copy or export it again"
    return str(details.get("error", reason))


def _rejected(reason: str, **details: Any) -> ImageRejected:
    return ImageRejected(maintainer_message(reason, details), reason=reason, details=details)


def open_image(data: bytes, *, max_pixels: int, draft: bool = False) -> Image.Image:
    """Decode `data` or raise ImageRejected. EXIF orientation is applied.

    The pixel limit is checked on the header, before any pixel is decoded,
    so a decompression bomb costs nothing.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in ALLOWED_FORMATS:
                raise _rejected("format", format=image.format)
            width, height = image.size
            if width * height > max_pixels:
                raise _rejected("too_many_pixels", width=width, height=height, limit=max_pixels)
            if draft and image.format == "JPEG":
                image.draft("RGB", DRAFT_SIZE)
            image.load()
            if image.getexif().get(_ORIENTATION, 1) in _TURNED:
                return ImageOps.exif_transpose(image) or image
            return image  # upright already: no copy (exif_transpose would return one)
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _rejected("bomb", limit=max_pixels) from None
    except UnidentifiedImageError:
        kind = _kind_of(data)
        start = data[:40].decode("utf-8", "replace") if kind == "text" else data[:4].hex(" ")
        raise _rejected("unidentified", kind=kind, start=start) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        text = str(exc) or type(exc).__name__
        truncated = isinstance(exc, EOFError) or "truncated" in text.lower()
        raise _rejected("damaged", error=text, truncated=truncated) from None


# ---------------------------------------------------------------- hashes


def hashes_of_image(image: Image.Image, *, variants: bool = True) -> ImageHashes:
    """pHash, dHash, PDQ (and, with `variants`, the 7 turned pHashes) of a decoded image."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    bits, quality = pdqhash.compute(np.asarray(rgb))
    gray = rgb.convert("L")
    # imagehash.phash's and imagehash.dhash's own first steps, on the same grayscale image:
    # every dihedral variant is the 32x32 thumbnail turned or mirrored (resampling
    # commutes with both).
    thumbnail = np.asarray(gray.resize((32, 32), Image.Resampling.LANCZOS))
    return ImageHashes(
        phash=_phash_of_thumbnail(thumbnail),
        dhash=_dhash_of_gray(gray),
        pdq=np.packbits(bits.astype(np.uint8)).tobytes(),
        pdq_quality=int(quality),
        phash_variants=tuple(_phash_of_thumbnail(turn(thumbnail)) for turn in _DIHEDRAL) if variants else (),
    )


def _dhash_of_gray(gray: Image.Image) -> int:
    dpixels = np.asarray(gray.resize((9, 8), Image.Resampling.LANCZOS))
    return _bits_to_code(dpixels[:, 1:] > dpixels[:, :-1])


def gray_hashes(gray: Image.Image) -> tuple[int, int]:
    """(pHash, dHash) of a grayscale ("L") image, exactly as hashes_of_image computes them."""
    thumbnail = np.asarray(gray.resize((32, 32), Image.Resampling.LANCZOS))
    return _phash_of_thumbnail(thumbnail), _dhash_of_gray(gray)


# The 7 non-identity orientations: mirrored left-right and top-bottom, turned 90, 180
# and 270 degrees, and mirrored about either diagonal.
_DIHEDRAL: tuple[Callable[[np.ndarray], np.ndarray], ...] = (
    np.fliplr,
    np.flipud,
    lambda a: np.rot90(a, 1),
    lambda a: np.rot90(a, 2),
    lambda a: np.rot90(a, 3),
    np.transpose,
    lambda a: np.rot90(a, 2).T,
)

# The first 8 rows of scipy.fftpack's unnormalised DCT-II matrix for 32 samples:
# y[k] = 2 * sum(x[n] * cos(pi * k * (2n + 1) / 64)). pHash needs only the 8x8 lowest
# frequencies, so two small matrix products replace the two full transforms.
_DCT8 = 2 * np.cos(np.pi * np.outer(np.arange(8), 2 * np.arange(32) + 1) / 64)
# Both ways of computing the coefficients agree to about 1e-8 (values reach 1e6); a bit can
# differ only where a coefficient lies that close to the median, so within this margin the
# bits are taken from scipy.fftpack itself, exactly as imagehash.phash computes them.
_MEDIAN_MARGIN = 1e-3


def _phash_of_thumbnail(pixels: np.ndarray) -> int:
    """imagehash.phash from its 32x32 grayscale thumbnail: the same bits, without resizing again.

    No scipy import (about 0.2 s) on the common path: only near-ties at the median, as on
    flat images, take scipy's transform.
    """
    low = _DCT8 @ pixels.astype(np.float64) @ _DCT8.T
    median = np.median(low)
    if np.abs(low - median).min() <= _MEDIAN_MARGIN:
        import scipy.fftpack  # imagehash's own transform, for the exact same bits

        low = scipy.fftpack.dct(scipy.fftpack.dct(pixels, axis=0), axis=1)[:8, :8]
        median = np.median(low)
    return _bits_to_code(low > median)


def compute_hashes(data: bytes, *, max_pixels: int, variants: bool = True) -> ImageHashes:
    """Image bytes -> its hashes (JPEGs draft-decoded at DRAFT_SIZE), or ImageRejected."""
    return hashes_of_image(open_image(data, max_pixels=max_pixels, draft=True), variants=variants)


def pdq_dihedral(image: Image.Image) -> list[bytes]:
    """PDQ of the image in its 8 dihedral orientations (32 bytes each), in pdqhash's order:
    original, rotated 90, 180 and 270 degrees, flipped about X, about Y, and about both diagonals.

    A submitted work's variants matched against a data set's PDQ find copies
    that were mirrored or turned by right angles.
    """
    hashes, _quality = pdqhash.compute_dihedral(np.asarray(image.convert("RGB")))
    return [np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes() for bits in hashes]


def pdq_distance(a: bytes | memoryview, b: bytes | memoryview) -> int:
    """Hamming distance between two 256-bit PDQ hashes."""
    left, right = bytes(a), bytes(b)
    if len(left) != 32 or len(right) != 32:
        raise ValueError("PDQ hashes are 32 bytes")
    return (int.from_bytes(left, "big") ^ int.from_bytes(right, "big")).bit_count()


def hamming64(a: int, b: int) -> int:
    return ((a ^ b) & 0xFFFFFFFFFFFFFFFF).bit_count()
