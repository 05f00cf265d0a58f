"""From image bytes to perceptual hashes, safely.

One module for uploads, index imports and the CLI, so every side of a
match hashes the same way. Hashes are 64-bit codes (imagehash pHash and
dHash, exactly the values `str(imagehash.phash(img))` prints) stored as
signed integers, and PDQ (256 bits, with its quality score).
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import imagehash
import numpy as np
from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext
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
_HEX64 = re.compile(r"^[0-9a-f]{16}$")
_HEX256 = re.compile(r"^[0-9a-f]{64}$")


class ImageRejected(ValueError):
    """The bytes are not an image we accept; the message says why, for a person."""


@dataclass(frozen=True)
class ImageHashes:
    phash: int
    dhash: int
    pdq: bytes | None
    pdq_quality: int | None
    # pHash of the image mirrored and turned by right angles: a repost that was
    # flipped or rotated has (within a few bits) one of these as its pHash.
    phash_variants: tuple[int, ...] = ()


@dataclass(frozen=True)
class SanitizedImage:
    content: bytes
    format: str
    extension: str
    width: int
    height: int


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


def _imagehash_to_code(h: imagehash.ImageHash) -> int:
    return hex_to_code(str(h))


def _(message: str) -> str:
    """ImageRejected messages are shown to artists next to their uploads, in the active language.

    Outside Django (the benchmarks import this module alone) they stay in English.
    """
    return gettext(message) if settings.configured else message


def _pixels(count: int) -> str:
    """A pixel count with the active language's thousands separator (40,000,000 / 40 000 000)."""
    return formats.number_format(count, force_grouping=True) if settings.configured else f"{count:,}"


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
                raise ImageRejected(
                    _("%(format)s files are not accepted; upload a JPEG, PNG or WebP image.")
                    % {"format": image.format}
                    if image.format
                    else _("This file type is not accepted; upload a JPEG, PNG or WebP image.")
                )
            width, height = image.size
            if width * height > max_pixels:
                raise ImageRejected(
                    _(
                        "The image is %(width)d x %(height)d pixels, more than the %(limit)s allowed; "
                        "upload a smaller version."
                    )
                    % {"width": width, "height": height, "limit": _pixels(max_pixels)}
                )
            if draft and image.format == "JPEG":
                image.draft("RGB", DRAFT_SIZE)
            image.load()
            return ImageOps.exif_transpose(image) or image
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(
            _("The image has more pixels than the %(limit)s allowed; upload a smaller version.")
            % {"limit": _pixels(max_pixels)}
        ) from None
    except UnidentifiedImageError:
        raise ImageRejected(
            _("This file is not an image we can read; upload a JPEG, PNG or WebP image.")
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageRejected(
            _("The image is damaged or incomplete (%(error)s); export it again.") % {"error": exc}
        ) from None


def sanitize(data: bytes, *, max_pixels: int) -> SanitizedImage:
    """Re-encode without metadata (EXIF, GPS, ICC, text chunks), in the same format."""
    image = open_image(data, max_pixels=max_pixels)
    fmt = Image.open(io.BytesIO(data)).format or "PNG"
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    clean_mode = "RGBA" if has_alpha and fmt != "JPEG" else ("L" if image.mode in ("L", "1") else "RGB")
    clean = Image.new(clean_mode, image.size)
    clean.paste(image.convert(clean_mode))
    out = io.BytesIO()
    if fmt == "JPEG":
        clean.save(out, "JPEG", quality=95, optimize=True)
    elif fmt == "WEBP":
        clean.save(out, "WEBP", quality=95)
    else:
        clean.save(out, "PNG", optimize=False)
    return SanitizedImage(
        content=out.getvalue(),
        format=fmt,
        extension=ALLOWED_FORMATS[fmt],
        width=image.width,
        height=image.height,
    )


def hashes_of_image(image: Image.Image) -> ImageHashes:
    rgb = image.convert("RGB")
    pdq, quality = _pdq(rgb)
    # imagehash.phash's own first step, done once: every dihedral variant is
    # this 32x32 thumbnail turned or mirrored (resampling commutes with both).
    thumbnail = np.asarray(rgb.convert("L").resize((32, 32), Image.Resampling.LANCZOS))
    return ImageHashes(
        phash=_phash_of_thumbnail(thumbnail),
        dhash=_imagehash_to_code(imagehash.dhash(rgb)),
        pdq=pdq,
        pdq_quality=quality,
        phash_variants=tuple(_phash_of_thumbnail(turn(thumbnail)) for turn in _DIHEDRAL),
    )


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


def _phash_of_thumbnail(pixels: np.ndarray) -> int:
    """imagehash.phash from its 32x32 grayscale thumbnail: the same bits, without resizing again."""
    import scipy.fftpack

    dct = scipy.fftpack.dct(scipy.fftpack.dct(pixels, axis=0), axis=1)
    low = dct[:8, :8]
    return _imagehash_to_code(imagehash.ImageHash(low > np.median(low)))


def compute_hashes(data: bytes, *, max_pixels: int) -> ImageHashes:
    return hashes_of_image(open_image(data, max_pixels=max_pixels, draft=True))


def _pdq(rgb: Image.Image) -> tuple[bytes | None, int | None]:
    try:
        import pdqhash
    except ImportError:  # PDQ is optional: pHash/dHash still match.
        return None, None
    bits, quality = pdqhash.compute(np.asarray(rgb))
    return np.packbits(bits.astype(np.uint8)).tobytes(), int(quality)


def pdq_dihedral(image: Image.Image) -> list[bytes]:
    """PDQ of the image in its 8 dihedral orientations (32 bytes each), in pdqhash's order:
    original, rotated 90, 180 and 270 degrees, flipped about X, about Y, and about both diagonals.

    A submitted work's variants matched against a data set's PDQ find copies
    that were mirrored or turned by right angles.
    """
    import pdqhash

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
