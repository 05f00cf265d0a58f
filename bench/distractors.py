"""A deterministic set of images unrelated to the sample photos, for false-suggestion tests.

`distractors(n)` draws `n` distinct small images (128 to 256 pixels a side)
from a seeded generator, built only from what ships with the project and
Pillow: tiles of the sample photos (tests/fixtures/photos; each tile at most
a quarter of its photo's area, some of a re-coloured or mirrored photo),
rendered text pages (Pillow's bundled default font), flat colours, linear and
radial gradients in many directions and colours (nearly blank images, whose
dHash is often the degenerate ffffffffffffffff), noise (uniform, Gaussian,
salt and pepper, blurred) and line art (random lines, grids, circles,
checkerboards).

The same seed gives the same images, byte for byte, on every machine with
the same Pillow and numpy; no two have the same pixels (checked by sha256
as they are drawn). The tests (tests/registry/test_false_suggestions.py) and
the benchmark (bench/robustness.py) both use it.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

PHOTOS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "photos"
SEED = 20261201
COUNT = 2000

_VOCABULARY = (
    "removal request data set image copy artist licence consent index hash maintainer desk archive "
    "photograph review notice upload match public crawler dataset model training opt out rights "
    "the of and to in for on with by from at as is be this that it an or are was"
)
_WORDS = _VOCABULARY.split()


@dataclass(frozen=True)
class Distractor:
    name: str  # kind and sequence number, e.g. "gradient-linear-0042"
    kind: str
    image: Image.Image

    def png(self) -> bytes:
        # The fastest zlib level: the same pixels (PNG is lossless), so the same hashes.
        out = io.BytesIO()
        self.image.save(out, "PNG", compress_level=1)
        return out.getvalue()


def _size(rng: np.random.Generator) -> tuple[int, int]:
    return int(rng.integers(128, 257)), int(rng.integers(128, 257))


def _colour(rng: np.random.Generator) -> tuple[int, int, int]:
    r, g, b = (int(v) for v in rng.integers(0, 256, 3))
    return r, g, b


@cache
def _photos() -> tuple[Image.Image, ...]:
    return tuple(
        Image.open(p).convert("RGB") for p in sorted(PHOTOS.iterdir()) if p.suffix in (".png", ".jpg")
    )


def _photo_tile(rng: np.random.Generator) -> Image.Image:
    source = _photos()[int(rng.integers(len(_photos())))]
    variant = int(rng.integers(6))
    if variant == 1:
        source = ImageOps.mirror(source)
    elif variant == 2:
        source = ImageOps.flip(source)
    elif variant == 3:  # re-coloured: channels swapped
        r, g, b = source.split()
        source = Image.merge("RGB", (b, r, g))
    elif variant == 4:
        source = ImageOps.grayscale(source).convert("RGB")
    elif variant == 5:
        source = ImageOps.invert(source)
    # A tile of at most a quarter of the photo's area: each side at most half of the photo's.
    w = int(rng.integers(max(8, source.width // 8), source.width // 2 + 1))
    h = int(rng.integers(max(8, source.height // 8), source.height // 2 + 1))
    x = int(rng.integers(0, source.width - w + 1))
    y = int(rng.integers(0, source.height - h + 1))
    tile = source.crop((x, y, x + w, y + h))
    return tile.resize(_size(rng), Image.Resampling.BILINEAR)


def _text_page(rng: np.random.Generator) -> Image.Image:
    size = _size(rng)
    paper = tuple(int(v) for v in rng.integers(200, 256, 3))
    ink = tuple(int(v) for v in rng.integers(0, 90, 3))
    if rng.random() < 0.25:  # dark mode
        paper, ink = ink, paper
    image = Image.new("RGB", size, paper)  # type: ignore[arg-type]
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=int(rng.integers(8, 22)))
    margin = int(rng.integers(2, 20))
    y = margin + int(rng.integers(0, 20))
    line_height = int(font.size * rng.uniform(1.1, 1.8))  # type: ignore[union-attr]
    columns = 2 if rng.random() < 0.2 else 1
    while y < size[1] - margin:
        for column in range(columns):
            words = rng.choice(_WORDS, int(rng.integers(1, 9)))
            x = margin + column * size[0] // columns + int(rng.integers(0, 12))
            draw.text((x, y), " ".join(words), fill=ink, font=font)  # type: ignore[arg-type]
        y += line_height * (2 if rng.random() < 0.1 else 1)
    return image


def _flat(rng: np.random.Generator) -> Image.Image:
    return Image.new("RGB", _size(rng), _colour(rng))


def _linear_gradient(rng: np.random.Generator) -> Image.Image:
    w, h = _size(rng)
    angle = rng.uniform(0, 2 * math.pi)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    t = x * math.cos(angle) + y * math.sin(angle)
    t = (t - t.min()) / max(1e-9, float(t.max() - t.min()))
    if rng.random() < 0.3:  # gentle: a nearly blank image
        start = np.array(_colour(rng), dtype=np.float64)
        end = np.clip(start + rng.integers(-40, 41, 3), 0, 255)
    else:
        start, end = np.array(_colour(rng), dtype=np.float64), np.array(_colour(rng), dtype=np.float64)
    pixels = start + t[..., None] * (end - start)
    return Image.fromarray(np.round(pixels).astype(np.uint8), "RGB")


def _radial_gradient(rng: np.random.Generator) -> Image.Image:
    w, h = _size(rng)
    cx, cy = rng.uniform(-0.2, 1.2) * w, rng.uniform(-0.2, 1.2) * h
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = np.hypot(x - cx, y - cy)
    t = r / max(1e-9, float(r.max()))
    if rng.random() < 0.3:
        t = t ** rng.uniform(0.3, 3)
    inner, outer = np.array(_colour(rng), dtype=np.float64), np.array(_colour(rng), dtype=np.float64)
    pixels = inner + t[..., None] * (outer - inner)
    return Image.fromarray(np.round(pixels).astype(np.uint8), "RGB")


def _noise(rng: np.random.Generator) -> Image.Image:
    w, h = _size(rng)
    kind = int(rng.integers(4))
    grey = rng.random() < 0.3
    shape = (h, w) if grey else (h, w, 3)
    if kind == 0:
        pixels = rng.integers(0, 256, shape)
    elif kind == 1:
        pixels = np.clip(rng.normal(rng.uniform(60, 200), rng.uniform(5, 60), shape), 0, 255)
    elif kind == 2:  # salt and pepper over a flat colour
        base = np.broadcast_to(np.array(_colour(rng))[: 1 if grey else 3], (h, w, 1 if grey else 3))
        pixels = base.reshape(shape).copy()
        u = rng.random((h, w))
        amount = rng.uniform(0.01, 0.3)
        pixels[u < amount / 2] = 0
        pixels[u > 1 - amount / 2] = 255
    else:
        pixels = rng.integers(0, 256, shape)
    image = Image.fromarray(pixels.astype(np.uint8), "L" if grey else "RGB").convert("RGB")
    if kind == 3:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(1, 8)))
    return image


def _line_art(rng: np.random.Generator) -> Image.Image:
    w, h = _size(rng)
    background, ink = _colour(rng), _colour(rng)
    image = Image.new("RGB", (w, h), background)
    draw = ImageDraw.Draw(image)
    kind = int(rng.integers(4))
    width = int(rng.integers(1, 5))
    if kind == 0:
        for _ in range(int(rng.integers(2, 40))):
            points = [float(v) for v in rng.uniform(0, 1, 4) * (w, h, w, h)]
            draw.line(points, fill=_colour(rng) if rng.random() < 0.5 else ink, width=width)
    elif kind == 1:
        step_x, step_y = int(rng.integers(6, 64)), int(rng.integers(6, 64))
        ox, oy = int(rng.integers(0, step_x)), int(rng.integers(0, step_y))
        for x in range(ox, w, step_x):
            draw.line((x, 0, x, h), fill=ink, width=width)
        for y in range(oy, h, step_y):
            draw.line((0, y, w, y), fill=ink, width=width)
    elif kind == 2:
        for _ in range(int(rng.integers(1, 25))):
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            r = rng.uniform(4, max(w, h) / 2)
            box = (cx - r, cy - r, cx + r, cy + r)
            if rng.random() < 0.3:
                draw.ellipse(box, fill=_colour(rng))
            else:
                draw.ellipse(box, outline=ink, width=width)
    else:
        cell = int(rng.integers(4, 65))
        ox, oy = int(rng.integers(0, cell)), int(rng.integers(0, cell))
        y, x = np.mgrid[0:h, 0:w]
        on = (((x + ox) // cell + (y + oy) // cell) % 2).astype(bool)
        pixels = np.where(on[..., None], np.array(ink), np.array(background)).astype(np.uint8)
        image = Image.fromarray(pixels, "RGB")
    return image


# kind -> (generator, share of the set)
KINDS: dict[str, tuple[Callable[[np.random.Generator], Image.Image], float]] = {
    "photo-tile": (_photo_tile, 0.30),
    "text": (_text_page, 0.15),
    "flat": (_flat, 0.05),
    "gradient-linear": (_linear_gradient, 0.15),
    "gradient-radial": (_radial_gradient, 0.10),
    "noise": (_noise, 0.10),
    "line-art": (_line_art, 0.15),
}


def _plan(count: int) -> list[str]:
    shares = {kind: int(count * share) for kind, (_, share) in KINDS.items()}
    shares["photo-tile"] += count - sum(shares.values())
    return [kind for kind, n in shares.items() for _ in range(n)]


def distractors(count: int = COUNT, *, seed: int = SEED) -> Iterator[Distractor]:
    """`count` distinct images, always the same ones for the same seed (see the module docstring)."""
    rng = np.random.default_rng(seed)
    seen: set[bytes] = set()
    numbers: dict[str, int] = {}
    for kind in _plan(count):
        make = KINDS[kind][0]
        while True:  # a repeat (e.g. the same flat colour twice) is drawn again
            image = make(rng)
            digest = hashlib.sha256(f"{image.size}".encode() + image.tobytes()).digest()
            if digest not in seen:
                seen.add(digest)
                break
        numbers[kind] = numbers.get(kind, 0) + 1
        yield Distractor(name=f"{kind}-{numbers[kind]:04d}", kind=kind, image=image)
