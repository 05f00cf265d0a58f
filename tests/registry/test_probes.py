"""registry.probes: the derived views of a work (crops, pads, small rotations) and their hashes."""

from __future__ import annotations

import itertools

from registry.hashing import compute_hashes, hamming64
from tests.helpers import jpeg_hashes, photo, photo_bytes


def test_the_crop_views_keep_a_share_of_each_side_at_every_offset_of_the_grid():
    from PIL import Image

    from registry import probes

    image = Image.new("L", (200, 100))
    views = probes.crop_views(grid=[(0.9, (0.0, 0.5, 1.0))])
    assert len(views) == 9
    boxes = {}
    for view in views:
        out = view.render(image)
        assert out.size == (180, 90)
        boxes[view.name] = out
    assert "cropped to 90%, centre" in boxes
    assert "cropped to 90%, 0% across, 0% down" in boxes and "cropped to 90%, 100% across, 100% down" in boxes
    # Where the window sits: a marked pixel in the bottom right corner is kept only by windows on that side.
    image.putpixel((199, 99), 255)
    kept = {v.name for v in views if v.render(image).getextrema()[1] == 255}
    assert kept == {"cropped to 90%, 100% across, 100% down"}
    scales = {round(100 * scale) for scale, _ in probes.CROP_GRID}
    assert {95, 90, 85} <= scales and min(
        scales
    ) >= 80  # never a tile: a quarter of a photo is another picture


def test_the_pad_views_add_a_border_of_each_grey_in_colour_or_in_luminance():
    from PIL import Image

    from registry import probes

    rgb = Image.new("RGB", (100, 60), (10, 200, 30))
    [white] = probes.pad_views(shares=[0.05], colours=[("white", (255, 255, 255))])
    assert white.name == "with a white border of 5%"
    out = white.render(rgb)
    assert out.size == (110, 66) and out.getpixel((0, 0)) == (255, 255, 255)
    assert out.getpixel((55, 33)) == (10, 200, 30)
    [red] = probes.pad_views(shares=[0.05], colours=[("red", (255, 0, 0))])
    assert red.render(rgb.convert("L")).getpixel((0, 0)) == Image.new("RGB", (1, 1), (255, 0, 0)).convert(
        "L"
    ).getpixel((0, 0))
    levels = sorted(probes._luma(colour) for _, colour in probes.PAD_COLOURS)
    assert levels[0] == 0 and levels[-1] == 255
    assert max(b - a for a, b in itertools.pairwise(levels)) <= 64  # any border colour is near one


def test_the_rotation_views_fill_crop_or_expand_the_corners():
    from PIL import Image

    from registry import probes

    image = Image.new("RGB", (200, 120), (120, 120, 120))
    views = {v.name: v for v in probes.rotation_views(angles=[5.0])}
    assert set(views) == {
        "turned 5° anticlockwise, black corners",
        "turned 5° anticlockwise, white corners",
        "turned 5° anticlockwise, cropped",
        "turned 5° anticlockwise, expanded",
    }
    black = views["turned 5° anticlockwise, black corners"].render(image)
    assert black.size == image.size and black.getpixel((0, 0)) == (0, 0, 0)
    assert views["turned 5° anticlockwise, white corners"].render(image).getpixel((0, 0)) == (255, 255, 255)
    cropped = views["turned 5° anticlockwise, cropped"].render(image)
    assert cropped.width < 200 and abs(cropped.width / cropped.height - 200 / 120) < 0.03
    corners = [
        (0, 0),
        (cropped.width - 1, 0),
        (0, cropped.height - 1),
        (cropped.width - 1, cropped.height - 1),
    ]
    assert all(cropped.getpixel(c) == (120, 120, 120) for c in corners)  # no filled corner left
    expanded = views["turned 5° anticlockwise, expanded"].render(image)
    assert expanded.width > 200 and expanded.height > 120


def test_every_derived_view_has_a_unique_name_that_fits_a_match_and_one_pair_of_hashes():
    from registry import probes
    from requests_app.models import Match

    names = [v.name for v in probes.DERIVED_VIEWS]
    assert len(names) == len(set(names)) >= 60
    assert max(map(len, names)) <= Match._meta.get_field("view").max_length
    assert all(probes.view_named(name) is not None for name in names)
    image = photo("astronaut.png")
    derived = probes.derived_hashes(image)
    assert [name for name, _, _ in derived] == names
    by_name = {name: (phash, dhash) for name, phash, dhash in derived}
    # A view is what a copy edited that way hashes to (within a few bits).
    copy = image.convert("RGB").crop((26, 26, 486, 486))  # 90% of 512, centred
    copy_hashes = jpeg_hashes(copy, quality=90)
    phash, dhash = by_name["cropped to 90%, centre"]
    assert hamming64(phash, copy_hashes.phash) <= 4 and hamming64(dhash, copy_hashes.dhash) <= 4
    original = compute_hashes(photo_bytes("astronaut.png"), max_pixels=10**8)
    assert hamming64(original.phash, copy_hashes.phash) > 10  # the plain pHash does not find it
