"""Derived views of a work: crops, pads and small rotations, each hashed as a copy would be.

Global hashes (pHash, dHash, PDQ) do not survive a 10% crop, a 10% border or a 5° rotation:
the edit moves every low frequency at once. The registry never sees a data set's pictures,
only the hashes their maintainers' hasher emits, and data sets are huge while an artist's
works are few, so the work is done on the artist's side: each work is searched once per
derived view, the view made the way a copy would have been edited, and a candidate found
by a view's pHash is confirmed by the other hashes of the same view (its dHash, and its
PDQ, computed only for views that found something) in registry.matching.verify.

What this borrows, and from where:

- imagehash's `crop_resistant_hash` (after "Efficient Cropping-Resistant Robust Image
  Hashing", DOI 10.1109/ARES.2014.85) cuts an image into bright and dark segments and
  hashes each one; matching counts the segments that agree. That needs region hashes of
  both sides, so the data set's hasher would emit many codes per item. Here the regions
  are on the work's side only, and each item keeps its three global hashes.
- Meta's PDQ ships "dihedral" variants (pdqhash.compute_dihedral): the 8 right-angle
  turns and mirrors of the query, computed once and searched against unchanged stored
  hashes. This module extends that idea from the dihedral group to crops, pads and small
  rotations (registry.matching's turned views are the dihedral part).
- Thorn's `perception` library benchmarks hashers on transformed copies of a set of
  images and reports recall at a threshold chosen for a false-positive budget, which is
  how bench/robustness.py reports: recall per edit at the site's thresholds, with the
  false suggestions against 2,000 distractors beside it.

How many views, of which kinds, and how far a view may be from a copy (the search
radius, MATCH_PROBE_PHASH_MAX_DISTANCE) were measured on the sample photos and the
2,000 distractors (bench/robustness.py, bench/RESULTS.md): a view searched at a small
radius costs a hundredth of one searched at the strict radius in a 10-million-item index
(0.14 ms against 14.6: radius 5 flips 1 bit per segment of 3, radius 10 flips 3), so a
denser grid of views at a small radius is both cheaper and finds more.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import Image
from removal_desk_toolkit.hashing import gray_hashes

# Views are rendered on a copy at most this large: the pHash and dHash of 88 views take
# about 70 ms at 256 pixels a side and 190 ms at 512, and find the same copies (the 32x32
# and 9x8 thumbnails barely change); a view's PDQ, computed only for views that found a
# candidate, is rendered at 512, where it stays closer to the copy's (bench/RESULTS.md).
HASH_SIZE = 256
PDQ_SIZE = 512

Render = Callable[[Image.Image], Image.Image]


@dataclass(frozen=True)
class View:
    """One derived view: its name as artists and moderators read it, and how to make it."""

    name: str
    render: Render


def _luma(colour: tuple[int, int, int]) -> int:
    r, g, b = colour
    return (r * 299 + g * 587 + b * 114) // 1000  # Pillow's RGB -> L


def _fill(image: Image.Image, colour: tuple[int, int, int]) -> int | tuple[int, int, int]:
    return _luma(colour) if image.mode == "L" else colour


# --- crops ---------------------------------------------------------------------------

# Share of each side kept, and where the kept window sits (0 left/top, 1 right/bottom).
# The offsets are about 2.5% of a side apart at 90% and 4% at 85%: a copy cropped anywhere
# between two of them is within a few bits of one (bench/RESULTS.md).
CROP_GRID: tuple[tuple[float, tuple[float, ...]], ...] = (
    (0.95, (0.0, 0.5, 1.0)),
    (0.90, (0.0, 0.25, 0.5, 0.75, 1.0)),
    (0.85, (0.0, 0.25, 0.5, 0.75, 1.0)),
)


def _crop(scale_x: float, scale_y: float, fx: float, fy: float) -> Render:
    def render(image: Image.Image) -> Image.Image:
        w, h = image.size
        cw, ch = max(1, round(w * scale_x)), max(1, round(h * scale_y))
        left, top = round((w - cw) * fx), round((h - ch) * fy)
        return image.crop((left, top, left + cw, top + ch))

    return render


def _place(fx: float, fy: float) -> str:
    if fx == fy == 0.5:
        return "centre"
    return f"{round(100 * fx)}% across, {round(100 * fy)}% down"


def crop_views(grid: Sequence[tuple[float, Sequence[float]]] = CROP_GRID) -> list[View]:
    """The work cropped to each share of its sides, the kept window at every offset of the grid
    (0: against the left or top edge, 1: against the right or bottom one)."""
    return [
        View(f"cropped to {round(100 * scale)}%, {_place(fx, fy)}", _crop(scale, scale, fx, fy))
        for scale, offsets in grid
        for fy in offsets
        for fx in offsets
    ]


# --- pads ----------------------------------------------------------------------------

# Border width per side, as a share of the side; border colours as grey levels a copy's
# colour turns into (pHash and dHash see luminance only: red is 76, green 149, blue 29).
PAD_SHARES = (0.05,)
PAD_COLOURS: tuple[tuple[str, tuple[int, int, int]], ...] = (
    ("black", (0, 0, 0)),
    ("dark grey", (64, 64, 64)),
    ("grey", (128, 128, 128)),
    ("light grey", (192, 192, 192)),
    ("white", (255, 255, 255)),
)


def _pad(share: float, colour: tuple[int, int, int]) -> Render:
    def render(image: Image.Image) -> Image.Image:
        w, h = image.size
        dx, dy = round(w * share), round(h * share)
        out = Image.new(image.mode, (w + 2 * dx, h + 2 * dy), _fill(image, colour))
        out.paste(image, (dx, dy))
        return out

    return render


def pad_views(
    shares: Sequence[float] = PAD_SHARES, colours: Sequence[tuple[str, tuple[int, int, int]]] = PAD_COLOURS
) -> list[View]:
    """The work with a border of `shares` of each side on every side, in each colour."""
    return [
        View(f"with a {name} border of {round(100 * share)}%", _pad(share, colour))
        for share in shares
        for name, colour in colours
    ]


# --- small rotations -------------------------------------------------------------------

ROTATION_ANGLES = (-5.0, -3.5, -2.0, 2.0, 3.5, 5.0)
ROTATION_CORNERS: tuple[tuple[str, tuple[int, int, int] | None], ...] = (
    ("black corners", (0, 0, 0)),
    ("white corners", (255, 255, 255)),
    ("cropped", None),  # the largest upright rectangle of the same shape inside the turned picture
    ("expanded", (-1, -1, -1)),  # the canvas grown to hold the whole turned picture, black corners
)


def _inscribed_share(w: int, h: int, angle: float) -> float:
    """Largest s such that the centred s*w x s*h rectangle fits in the w x h picture turned by `angle`."""

    a = math.radians(abs(angle))
    cos, sin = math.cos(a), math.sin(a)
    # The rectangle's corner (s*w/2, s*h/2) turned back by the angle must stay inside the picture.
    return min(w / (w * cos + h * sin), h / (w * sin + h * cos))


def _rotate(angle: float, corners: tuple[int, int, int] | None) -> Render:
    expand = corners == (-1, -1, -1)

    def render(image: Image.Image) -> Image.Image:
        fill = _fill(image, corners if corners is not None and not expand else (0, 0, 0))
        turned = image.rotate(angle, Image.Resampling.BICUBIC, expand=expand, fillcolor=fill)
        if corners is not None:
            return turned
        w, h = image.size
        share = _inscribed_share(w, h, angle)
        return _crop(share, share, 0.5, 0.5)(turned)

    return render


def rotation_views(
    angles: Sequence[float] = ROTATION_ANGLES,
    corners: Sequence[tuple[str, tuple[int, int, int] | None]] = ROTATION_CORNERS,
) -> list[View]:
    """The work turned by each small angle (counter-clockwise positive), corners filled or cropped."""
    views = []
    for angle in angles:
        way = "anticlockwise" if angle > 0 else "clockwise"
        for name, colour in corners:
            views.append(View(f"turned {abs(angle):g}° {way}, {name}", _rotate(angle, colour)))
    return views


DERIVED_VIEWS: tuple[View, ...] = (*crop_views(), *pad_views(), *rotation_views())
_BY_NAME = {view.name: view for view in DERIVED_VIEWS}


def view_named(name: str) -> View | None:
    return _BY_NAME.get(name)


def working_copy(image: Image.Image, size: int = PDQ_SIZE) -> Image.Image:
    """The work in RGB at most `size` a side, as views are rendered from."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    if max(rgb.size) > size:
        rgb = rgb.copy()
        rgb.thumbnail((size, size), Image.Resampling.LANCZOS)
    return rgb


def derived_hashes(image: Image.Image, views: Sequence[View] = DERIVED_VIEWS) -> list[tuple[str, int, int]]:
    """(view name, pHash, dHash) of every view of the work: what a work stores to be searched with."""
    gray = working_copy(image, HASH_SIZE).convert("L")
    out = []
    for view in views:
        phash, dhash = gray_hashes(view.render(gray))
        out.append((view.name, phash, dhash))
    return out
