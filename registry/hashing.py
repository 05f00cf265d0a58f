"""From image bytes to perceptual hashes, safely: the server's side of removal_desk_toolkit.hashing.

The hashes are computed by the maintainers' toolkit (toolkit/removal_desk_toolkit/hashing.py),
one module for uploads, index imports and the `removal-desk-hash` / `manage.py hash_images`
command, so every side of a match hashes the same way. Hashes are 64-bit codes (imagehash
pHash and dHash, exactly the values `str(imagehash.phash(img))` prints) stored as signed
integers, and PDQ (256 bits, with its quality score).

What is the server's own stays here: the reasons an upload is refused, worded for artists in
the active language, and re-encoding uploads without their metadata. Limits come from the
settings through the callers' `max_pixels`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext
from PIL import Image
from removal_desk_toolkit import hashing as toolkit
from removal_desk_toolkit.hashing import (
    ALLOWED_FORMATS,
    DRAFT_SIZE,
    ImageHashes,
    code_to_hex,
    hamming64,
    hex_to_code,
    hex_to_pdq,
    pdq_dihedral,
    pdq_distance,
    pdq_to_hex,
)

from .provenance import read_embedded

__all__ = [
    "ALLOWED_FORMATS",
    "DRAFT_SIZE",
    "ImageHashes",
    "ImageRejected",
    "SanitizedImage",
    "code_to_hex",
    "compute_hashes",
    "hamming64",
    "hashes_of_image",
    "hex_to_code",
    "hex_to_pdq",
    "open_image",
    "pdq_dihedral",
    "pdq_distance",
    "pdq_to_hex",
    "sanitize",
]


class ImageRejected(toolkit.ImageRejected):
    """The bytes are not an image we accept; the message says why, for a person (an artist)."""


@dataclass(frozen=True)
class SanitizedImage:
    content: bytes
    format: str
    extension: str
    width: int
    height: int
    # What the original file said about AI training before its metadata went (registry.provenance).
    embedded: dict[str, Any] = field(default_factory=dict)


def _(message: str) -> str:
    """ImageRejected messages are shown to artists next to their uploads, in the active language.

    Outside Django (the benchmarks import this module alone) they stay in English.
    """
    return gettext(message) if settings.configured else message


def _pixels(count: int) -> str:
    """A pixel count with the active language's thousands separator (40,000,000 / 40 000 000)."""
    return formats.number_format(count, force_grouping=True) if settings.configured else f"{count:,}"


def _for_artists(exc: toolkit.ImageRejected) -> ImageRejected:
    """The toolkit's refusal, worded for the artist who uploaded the file."""
    reason, details = exc.reason, exc.details
    if reason == "format":
        message = (
            _("%(format)s files are not accepted; upload a JPEG, PNG or WebP image.")
            % {"format": details["format"]}
            if details.get("format")
            else _("This file type is not accepted; upload a JPEG, PNG or WebP image.")
        )
    elif reason == "too_many_pixels":
        message = _(
            "The image is %(width)d x %(height)d pixels, more than the %(limit)s allowed; "
            "upload a smaller version."
        ) % {"width": details["width"], "height": details["height"], "limit": _pixels(details["limit"])}
    elif reason == "bomb":
        message = _("The image has more pixels than the %(limit)s allowed; upload a smaller version.") % {
            "limit": _pixels(details["limit"])
        }
    elif reason == "unidentified":
        message = _("This file is not an image we can read; upload a JPEG, PNG or WebP image.")
    else:
        message = _("The image is damaged or incomplete (%(error)s); export it again.") % {
            "error": details.get("error", exc)
        }
    return ImageRejected(message, reason=reason, details=details)


def open_image(data: bytes, *, max_pixels: int, draft: bool = False) -> Image.Image:
    """Decode `data` or raise ImageRejected (worded for artists). EXIF orientation is applied.

    The pixel limit is checked on the header, before any pixel is decoded,
    so a decompression bomb costs nothing.
    """
    try:
        return toolkit.open_image(data, max_pixels=max_pixels, draft=draft)
    except toolkit.ImageRejected as exc:
        raise _for_artists(exc) from None


def hashes_of_image(image: Image.Image, *, variants: bool = True) -> ImageHashes:
    return toolkit.hashes_of_image(image, variants=variants)


def compute_hashes(data: bytes, *, max_pixels: int) -> ImageHashes:
    return hashes_of_image(open_image(data, max_pixels=max_pixels, draft=True))


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
        embedded=read_embedded(data, fmt),
    )
