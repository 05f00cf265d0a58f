"""`manage.py hash_images` (the toolkit's removal-desk-hash): JSON lines in sorted path order, the same
hashes as the site, a line for every file; and the console script's output imported as it is."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import removal_desk_toolkit.cli
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from registry import hash_images, services
from registry.hashing import code_to_hex, compute_hashes, pdq_to_hex
from registry.models import DatasetItem, ImportJob
from tests.helpers import PHOTOS, image_bytes, photo, photo_bytes

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
def test_it_hashes_a_folder_in_sorted_order_and_gives_every_other_file_a_line(image_folder, workers):
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
    assert f"{image_folder / 'x.jpg'}: not hashed: a text file, not an image (it starts 'this is text" in err
    assert f"{image_folder / 'b/truncated.png'}: not hashed: the file is cut short" in err
    assert f"{image_folder / 'notes.txt'}: skipped: not an image by its name (.txt)" in err
    assert f"{image_folder / '.hidden.png'}: skipped: a hidden file" in err
    assert "8/8 files: 4 hashed, 2 not readable, 2 skipped" in err


def test_named_files_are_hashed_whatever_their_name(image_folder):
    (image_folder / "picture.bin").write_bytes(photo_bytes("chelsea.png"))
    lines, err = run(str(image_folder / "picture.bin"), str(image_folder / "a.png"))
    expected = [str(image_folder / "a.png"), str(image_folder / "picture.bin")]
    assert [line["path"] for line in lines] == expected
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


def test_it_is_the_toolkits_hasher():
    """One program: manage.py hash_images and python -m registry.hash_images run the toolkit's code."""
    assert hash_images.run is removal_desk_toolkit.cli.run
    assert hash_images.main is removal_desk_toolkit.cli.main


def test_every_file_it_cannot_hash_gets_a_reason_a_maintainer_understands(tmp_path, monkeypatch):
    """Never skipped in silence: each file that is not a hashable image says why, and the exit status is 1."""
    (tmp_path / "good.png").write_bytes(image_bytes(photo("chelsea.png").resize((300, 200))))
    (tmp_path / "drawing.svg").write_text('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>')
    (tmp_path / "animated.gif").write_bytes(image_bytes(photo("chelsea.png"), "GIF"))
    cut = image_bytes(photo("rocket.jpg").resize((300, 200)), "JPEG", quality=90)
    (tmp_path / "cut.jpg").write_bytes(cut[: len(cut) // 2])
    (tmp_path / "notes.jpg").write_text("a text file named .jpg")
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "huge.png").write_bytes(image_bytes(photo("camera.png").resize((400, 300))))
    (tmp_path / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    os.mkfifo(tmp_path / "pipe.png")
    monkeypatch.setenv("UPLOAD_MAX_PIXELS", "100000")
    with pytest.raises(CommandError) as raised:
        run(str(tmp_path), "--url-prefix", "https://img.example/set/")
    assert raised.value.returncode == 1
    assert [line["external_id"] for line in raised.value.lines] == ["good.png"]
    reasons = {
        line.split(": not hashed: ")[0].removeprefix(f"{tmp_path}/"): line.split(": not hashed: ")[1]
        for line in raised.value.err.splitlines()
        if ": not hashed: " in line
    }
    assert reasons.pop("cut.jpg").startswith("the file is cut short (image file is truncated")
    assert reasons == {
        "animated.gif": "a GIF image; the registry hashes only JPEG, PNG and WebP files, so convert it "
        "(to PNG, say) and hash the converted file",
        "drawing.svg": "an SVG drawing (vector graphics, not pixels); the registry hashes only JPEG, PNG "
        "and WebP files, so render it to PNG and hash that",
        "empty.png": "the file is empty (0 bytes)",
        "gone.jpg": "cannot read the file (No such file or directory)",
        "huge.png": "the image is 400 x 300 pixels (120,000), more than the limit of 100,000; the registry "
        "refuses images that large (UPLOAD_MAX_PIXELS)",
        "notes.jpg": "a text file, not an image (it starts 'a text file named .jpg')",
        "pipe.png": "not a regular file (a pipe, socket or device); nothing to hash",
    }
    assert "9/9 files: 1 hashed, 8 not readable, 0 skipped" in raised.value.err


def test_progress_goes_to_stderr_a_line_every_ten_seconds_when_not_a_terminal(tmp_path):
    (tmp_path / "a.png").write_bytes(photo_bytes("chelsea.png"))
    out, err = io.StringIO(), io.StringIO()
    progress = removal_desk_toolkit.cli._Progress(err, 3)
    progress.step()
    progress.last -= 11  # ten seconds went by
    progress.step()
    progress.step(skipped=True)
    progress.done(0)
    lines = err.getvalue().splitlines()
    assert lines[0].startswith("2/3 files, ") and lines[0].endswith(" s left")
    assert lines[1].startswith("3/3 files: 2 hashed, 0 not readable, 1 skipped, in ")
    assert out.getvalue() == ""


def _big_jpegs(folder: Path) -> None:
    """Photos in the sizes data sets hold: 12 MP JPEGs (draft-decoded) next to the small samples."""
    for name in ("astronaut.png", "brick.png"):
        image = photo(name).convert("RGB").resize((4000, 3000))
        (folder / f"{name.removesuffix('.png')}-12mp.jpg").write_bytes(image_bytes(image, "JPEG", quality=90))


@pytest.mark.django_db
def test_the_console_scripts_output_imports_as_it_is_with_the_hashes_the_server_computes(
    tmp_path, maintainer, django_capture_on_commit_callbacks
):
    """removal-desk-hash as a process (a maintainer's bare shell), then import_dataset and the imports API."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for source in PHOTOS.iterdir():
        (folder / source.name).write_bytes(source.read_bytes())
    _big_jpegs(folder)
    script = Path(sys.executable).parent / "removal-desk-hash"
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    hashes = tmp_path / "hashes.ndjson"
    with hashes.open("w") as out:
        hashed = subprocess.run(
            [str(script), str(folder), "--url-prefix", "https://img.example/photos/"],
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=120,
        )
    assert hashed.returncode == 0, hashed.stderr
    assert f"{folder / 'LICENSES.md'}: skipped: not an image by its name (.md)" in hashed.stderr
    files = sorted(p for p in folder.iterdir() if p.suffix in (".png", ".jpg"))
    assert len(files) == 16

    by_command = services.dataset_create(
        maintainer=maintainer.maintainer, slug="by-command", name="By command"
    )
    by_api = services.dataset_create(maintainer=maintainer.maintainer, slug="by-api", name="By API")
    out = io.StringIO()
    call_command("import_dataset", "by-command", str(hashes), stdout=out, stderr=io.StringIO())
    assert "16 created, 0 updated, 0 rejected" in out.getvalue()
    upload = SimpleUploadedFile("hashes.ndjson", hashes.read_bytes(), content_type="application/x-ndjson")
    api = maintainer.client()
    with django_capture_on_commit_callbacks(execute=False):
        response = api.post("/api/v1/datasets/by-api/imports/", {"file": upload}, format="multipart")
    assert response.status_code == 202, response.content
    job = services.import_run(
        services.import_claim(ImportJob.objects.get(public_id=response.json()["id"]).pk)
    )
    assert (job.status, job.created_count, job.error_count) == ("succeeded", 16, 0)

    for dataset in (by_command, by_api):
        items = {item.external_id: item for item in DatasetItem.objects.filter(dataset=dataset)}
        assert sorted(items) == [p.name for p in files]
        for path in files:
            expected = compute_hashes(path.read_bytes(), max_pixels=MAX)
            item = items[path.name]
            assert item.url == f"https://img.example/photos/{path.name}"
            assert (item.phash, item.dhash) == (expected.phash, expected.dhash)
            assert bytes(item.pdq) == expected.pdq
            assert item.pdq_quality == expected.pdq_quality
