"""removal-desk-hash (removal_desk_toolkit.cli) as a maintainer runs it: a process in a bare shell, with
no Django imported; a line for every file; the exit status; the same lines with one process or many."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import image_bytes, photo, photo_bytes

SCRIPT = Path(sys.executable).parent / "removal-desk-hash"


def bare_env(**extra: str) -> dict[str, str]:
    """A maintainer's shell: no DJANGO_SETTINGS_MODULE, SECRET_KEY or DATABASE_URL."""
    return {**{k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}, **extra}


def hasher(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, env=bare_env(**env), timeout=120
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "set" / "2024").mkdir(parents=True)
    (tmp_path / "set" / "chelsea.png").write_bytes(photo_bytes("chelsea.png"))
    (tmp_path / "set" / "2024" / "rocket.jpg").write_bytes(photo_bytes("rocket.jpg", "JPEG", quality=90))
    (tmp_path / "set" / "2024" / "coffee.webp").write_bytes(photo_bytes("coffee.png", "WEBP"))
    (tmp_path / "set" / "README.txt").write_text("photos from 2024")
    (tmp_path / "set" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (tmp_path / "set" / ".git").mkdir()
    (tmp_path / "set" / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return tmp_path / "set"


def test_help_and_a_run_need_nothing_of_the_server():
    result = hasher("--help")
    assert result.returncode == 0 and "--url-prefix" in result.stdout and "UPLOAD_MAX_PIXELS" in result.stdout


def test_it_imports_no_django_no_faiss_and_no_scipy_for_photos(folder):
    program = (
        "import sys\n"
        "from removal_desk_toolkit import cli\n"
        f"status = cli.main([{str(folder)!r}, '--workers', '1'])\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & {'django', 'faiss', 'scipy', 'registry'})\n"
        "print('loaded:', loaded, file=sys.stderr)\n"
        "sys.exit(status)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, env=bare_env(), timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "loaded: []" in result.stderr
    assert len(result.stdout.splitlines()) == 3


def test_every_file_gets_a_line_and_skipped_ones_do_not_fail_the_run(folder):
    result = hasher(str(folder), "--url-prefix", "https://img.example/set/")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["external_id"] for line in lines] == ["2024/coffee.webp", "2024/rocket.jpg", "chelsea.png"]
    assert lines[1]["url"] == "https://img.example/set/2024/rocket.jpg"
    assert f"{folder / '.DS_Store'}: skipped: a hidden file, not part of the data set" in result.stderr
    assert f"{folder / '.git'}/: skipped: a hidden folder, not walked" in result.stderr
    assert f"{folder / 'README.txt'}: skipped: not an image by its name (.txt)" in result.stderr
    assert result.stderr.endswith("6/6 files: 3 hashed, 0 not readable, 3 skipped, in " + _seconds(result))


def _seconds(result: subprocess.CompletedProcess[str]) -> str:
    return result.stderr.rsplit(" in ", 1)[1]


def test_one_failed_file_makes_the_exit_status_1_and_the_others_are_still_printed(folder):
    (folder / "2024" / "banner.gif").write_bytes(image_bytes(photo("chelsea.png"), "GIF"))
    result = hasher(str(folder), "--url-prefix", "https://img.example/set/", "--workers", "2")
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == 3
    assert f"{folder / '2024' / 'banner.gif'}: not hashed: a GIF image;" in result.stderr
    assert "7/7 files: 3 hashed, 1 not readable, 3 skipped" in result.stderr


def test_a_file_named_on_the_command_line_is_never_skipped(folder):
    result = hasher(str(folder / "README.txt"), str(folder / "chelsea.png"))
    assert result.returncode == 1
    assert [json.loads(line)["external_id"] for line in result.stdout.splitlines()] == ["chelsea.png"]
    assert f"{folder / 'README.txt'}: not hashed: a text file, not an image" in result.stderr


def test_one_process_or_several_print_the_same_lines(folder):
    for name in ("astronaut.png", "brick.png", "camera.png", "coins.png", "horse.png"):
        (folder / name).write_bytes(photo_bytes(name))
    one = hasher(str(folder), "--url-prefix", "https://img.example/set/", "--workers", "1")
    three = hasher(str(folder), "--url-prefix", "https://img.example/set/", "--workers", "3")
    assert one.returncode == three.returncode == 0
    assert one.stdout == three.stdout and len(one.stdout.splitlines()) == 8


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["nope"], {}, "nope: no such file or folder"),
        (["."], {"UPLOAD_MAX_PIXELS": "lots"}, "UPLOAD_MAX_PIXELS='lots' is not a whole number"),
        ([".", "--workers", "0"], {}, "--workers must be at least 1"),
        ([".", "--url-prefix", "img.example/"], {}, "is not an http(s) URL"),
    ],
)
def test_usage_errors_exit_2_with_one_line(folder, args, env, message):
    result = subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, env=bare_env(**env), cwd=folder, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.startswith("removal-desk-hash: ") and message in result.stderr
    assert result.stdout == ""


def test_a_reader_that_stops_early_ends_the_run_quietly(tmp_path):
    """`removal-desk-hash FOLDER | head -1`: exit 0, no traceback, once the pipe closes."""
    small = image_bytes(photo("chelsea.png").resize((60, 40)))
    for i in range(600):  # more lines than a pipe holds, so the writer meets the closed pipe
        (tmp_path / f"{i:04d}.png").write_bytes(small)
    process = subprocess.Popen(
        [str(SCRIPT), str(tmp_path), "--url-prefix", "https://img.example/set/"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=bare_env(),
    )
    assert process.stdout is not None and process.stderr is not None
    first = json.loads(process.stdout.readline())
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0
    assert first["external_id"] == "0000.png"
    assert "Traceback" not in err and "BrokenPipe" not in err
