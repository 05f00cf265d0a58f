"""`manage.py hash_images`: JSON lines in sorted path order, the same hashes as the site, errors per file."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from registry.hashing import code_to_hex, compute_hashes, pdq_to_hex
from tests.conftest import photo, photo_bytes

MAX = 50_000_000


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "deep").mkdir()
    (tmp_path / "a.png").write_bytes(photo_bytes("chelsea.png"))
    (tmp_path / "b" / "rocket.JPG").write_bytes(photo_bytes("rocket.jpg", "JPEG", quality=90))
    (tmp_path / "b" / "deep" / "coffee.webp").write_bytes(photo_bytes("coffee.png", "WEBP"))
    big = photo("camera.png").convert("RGB").resize((2000, 1500))
    (tmp_path / "b" / "deep" / "big.jpg").write_bytes(_jpeg(big))
    (tmp_path / "x.jpg").write_text("this is text, not a JPEG")
    (tmp_path / "b" / "truncated.png").write_bytes(photo_bytes("chelsea.png")[:5000])
    (tmp_path / "notes.txt").write_text("skipped: not an image name")
    (tmp_path / ".hidden.png").write_bytes(photo_bytes("chelsea.png"))
    return tmp_path


def _jpeg(image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def run(*args: str) -> tuple[list[dict], str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("hash_images", *args, stdout=out, stderr=err)
    return [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_it_hashes_a_folder_in_sorted_order_with_errors_per_file(folder, workers):
    lines, err = run(str(folder), "--workers", workers)
    names = [str(folder / n) for n in ("a.png", "b/deep/big.jpg", "b/deep/coffee.webp", "b/rocket.JPG")]
    bad = [str(folder / "b/truncated.png"), str(folder / "x.jpg")]
    assert [line["path"] for line in lines] == sorted(names + bad)
    for line in lines:
        if line["path"] in bad:
            assert set(line) == {"path", "error"}
            continue
        assert set(line) == {"path", "phash", "dhash", "pdq", "pdq_quality"}
        expected = compute_hashes(Path(line["path"]).read_bytes(), max_pixels=MAX)
        assert line["phash"] == code_to_hex(expected.phash) and len(line["phash"]) == 16
        assert line["dhash"] == code_to_hex(expected.dhash) and len(line["dhash"]) == 16
        assert line["pdq"] == pdq_to_hex(expected.pdq) and len(line["pdq"]) == 64
        assert line["pdq"] == line["pdq"].lower()
        assert line["pdq_quality"] == expected.pdq_quality
    errors = {line["path"]: line["error"] for line in lines if "error" in line}
    assert "not an image we can read" in errors[str(folder / "x.jpg")]
    assert "damaged or incomplete" in errors[str(folder / "b/truncated.png")]
    assert "4 hashed, 2 not readable" in err
    assert "6/6 files" in err


def test_named_files_are_hashed_whatever_their_name(folder):
    (folder / "picture.bin").write_bytes(photo_bytes("chelsea.png"))
    lines, _ = run(str(folder / "picture.bin"), str(folder / "a.png"))
    assert [line["path"] for line in lines] == [str(folder / "a.png"), str(folder / "picture.bin")]
    assert lines[0]["phash"] == lines[1]["phash"]


def test_a_missing_path_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="no such file or folder"):
        run(str(tmp_path / "nope"))
