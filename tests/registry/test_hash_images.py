"""`manage.py hash_images`: JSON lines in sorted path order, the same hashes as the site, errors per file."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from registry.hashing import code_to_hex, compute_hashes, pdq_to_hex
from tests.helpers import photo_bytes

MAX = 50_000_000


def run(*args: str) -> tuple[list[dict], str]:
    """call_command; the lines on stdout and stderr's text (a CommandError carries both away)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("hash_images", *args, stdout=out, stderr=err)
    except CommandError as exc:
        exc.lines = [json.loads(line) for line in out.getvalue().splitlines()]  # type: ignore[attr-defined]
        exc.err = err.getvalue()  # type: ignore[attr-defined]
        raise
    return [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_it_hashes_a_folder_in_sorted_order_and_lists_unreadable_files_on_stderr(image_folder, workers):
    with pytest.raises(CommandError) as raised:
        run(str(image_folder), "--workers", workers, "--url-prefix", "https://img.example/set/")
    assert raised.value.returncode == 1
    lines, err = raised.value.lines, raised.value.err
    names = ["a.png", "b/deep/big.jpg", "b/deep/coffee.webp", "b/rocket.JPG"]
    assert [line["path"] for line in lines] == [str(image_folder / n) for n in names]
    assert [line["external_id"] for line in lines] == names
    assert [line["url"] for line in lines] == [f"https://img.example/set/{n}" for n in names]
    for line in lines:
        assert set(line) == {"external_id", "url", "path", "phash", "dhash", "pdq", "pdq_quality"}
        expected = compute_hashes(Path(line["path"]).read_bytes(), max_pixels=MAX)
        assert line["phash"] == code_to_hex(expected.phash) and len(line["phash"]) == 16
        assert line["dhash"] == code_to_hex(expected.dhash) and len(line["dhash"]) == 16
        assert line["pdq"] == pdq_to_hex(expected.pdq) and len(line["pdq"]) == 64
        assert line["pdq"] == line["pdq"].lower()
        assert line["pdq_quality"] == expected.pdq_quality
    assert f"{image_folder / 'x.jpg'}: " in err and "not an image we can read" in err
    assert f"{image_folder / 'b/truncated.png'}: " in err and "damaged or incomplete" in err
    assert "4 hashed, 2 not readable" in err
    assert "6/6 files" in err


def test_named_files_are_hashed_whatever_their_name(image_folder):
    (image_folder / "picture.bin").write_bytes(photo_bytes("chelsea.png"))
    lines, err = run(str(image_folder / "picture.bin"), str(image_folder / "a.png"))
    assert [line["path"] for line in lines] == [
        str(image_folder / "a.png"),
        str(image_folder / "picture.bin"),
    ]
    assert [line["external_id"] for line in lines] == ["a.png", "picture.bin"]
    assert lines[0]["phash"] == lines[1]["phash"]
    assert "url" not in lines[0] and "no --url-prefix" in err


def test_external_ids_are_relative_paths_and_urls_are_quoted(tmp_path):
    (tmp_path / "2024 summer").mkdir()
    (tmp_path / "2024 summer" / "cat #1?.png").write_bytes(photo_bytes("chelsea.png"))
    (tmp_path / "2024 summer" / "café.png").write_bytes(photo_bytes("coffee.png"))
    lines, _ = run(str(tmp_path), "--url-prefix", "https://img.example/p/")
    assert [(line["external_id"], line["url"]) for line in lines] == [
        ("2024 summer/café.png", "https://img.example/p/2024%20summer/caf%C3%A9.png"),
        ("2024 summer/cat #1?.png", "https://img.example/p/2024%20summer/cat%20%231%3F.png"),
    ]


def test_two_files_with_the_same_external_id_are_refused(tmp_path):
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "a.png").write_bytes(photo_bytes("chelsea.png"))
    with pytest.raises(CommandError, match=r"would both get the external_id 'a\.png'") as raised:
        run(str(tmp_path / "one"), str(tmp_path / "two"))
    assert raised.value.returncode == 2


def test_a_url_prefix_must_be_an_http_url(image_folder):
    with pytest.raises(CommandError, match="is not an http"):
        run(str(image_folder), "--url-prefix", "img.example/photos/")


def test_a_missing_path_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="no such file or folder"):
        run(str(tmp_path / "nope"))
