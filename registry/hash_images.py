"""Hash a data set's image files the way the registry does, on the maintainer's own machine.

    python -m registry.hash_images FOLDER [FOLDER|FILE ...] [--url-prefix URL] [--workers N]
    python manage.py hash_images ...    (the same program)

It needs nothing but this package installed: no Django settings, no SECRET_KEY, no database.
Folders are walked recursively for .jpg, .jpeg, .png and .webp files (hidden files skipped);
files named on the command line are hashed whatever their name. Each hashed file is one JSON
line on stdout, in sorted path order, in the form `manage.py import_dataset` and the imports
endpoint take:

    {"external_id": "2024/cat 1.jpg", "url": "https://img.example/photos/2024/cat%201.jpg",
     "phash": "...", "dhash": "...", "pdq": "...", "pdq_quality": 100, "path": "photos/2024/cat 1.jpg"}

external_id is the file's path relative to the folder it was found in (or the file's name, for
a file named on the command line); url is --url-prefix followed by that path, URL-quoted. Files
that cannot be hashed are listed on stderr ("path: why") and left out of stdout; the exit
status is then 1. Usage errors exit with 2. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

from registry.hashing import ImageRejected, code_to_hex, compute_hashes, pdq_to_hex

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
DEFAULT_MAX_PIXELS = 50_000_000  # the site's UPLOAD_MAX_PIXELS default
EXTERNAL_ID_MAX = 200  # DatasetItem.external_id


class Writer(Protocol):
    def write(self, text: str, /) -> Any: ...
    def flush(self) -> Any: ...


class UsageError(Exception):
    """The command line cannot be run as given; the message says why, in one line."""


@dataclass(frozen=True)
class Image:
    path: str  # as found on disk, for reading and for the person
    external_id: str  # relative to the folder named on the command line, with "/"


def hash_file(job: tuple[str, int]) -> dict[str, Any]:
    """One file -> its hashes, or {"error"}. Runs in pool workers."""
    path, max_pixels = job
    try:
        data = Path(path).read_bytes()
        hashes = compute_hashes(data, max_pixels=max_pixels)
    except ImageRejected as exc:
        return {"error": str(exc)}
    except OSError as exc:
        return {"error": f"cannot read the file ({exc.strerror or exc})"}
    return {
        "phash": code_to_hex(hashes.phash),
        "dhash": code_to_hex(hashes.dhash),
        "pdq": pdq_to_hex(hashes.pdq),
        "pdq_quality": hashes.pdq_quality,
    }


def collect(paths: Sequence[str]) -> list[Image]:
    """Every image under the folders and every file named, sorted by path, with its external id."""
    found: dict[str, Image] = {}
    for name in paths:
        path = Path(name)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                for file in files:
                    if not file.startswith(".") and Path(file).suffix.lower() in IMAGE_SUFFIXES:
                        full = Path(root) / file
                        found[str(full)] = Image(str(full), full.relative_to(path).as_posix())
        elif path.exists():
            found[str(path)] = Image(str(path), path.name)
        else:
            raise UsageError(f"{name}: no such file or folder")
    images = [found[key] for key in sorted(found)]
    owners: dict[str, str] = {}
    for image in images:
        if len(image.external_id) > EXTERNAL_ID_MAX:
            raise UsageError(
                f"{image.path}: its relative path is longer than {EXTERNAL_ID_MAX} characters, "
                "too long for an external_id; hash a folder nearer to it"
            )
        if image.external_id in owners:
            raise UsageError(
                f"{owners[image.external_id]} and {image.path} would both get the external_id "
                f"{image.external_id!r}; hash them in separate runs (one data set folder at a time)"
            )
        owners[image.external_id] = image.path
    return images


def url_for(prefix: str, external_id: str) -> str:
    return prefix + quote(external_id, safe="/")


def check_prefix(prefix: str) -> str:
    parts = urlsplit(prefix)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(
            f"--url-prefix {prefix!r} is not an http(s) URL; give where the folder is served, "
            "e.g. https://img.example/photos/"
        )
    return prefix


def _max_pixels() -> int:
    raw = os.environ.get("UPLOAD_MAX_PIXELS")
    if raw is None:
        return DEFAULT_MAX_PIXELS
    try:
        value = int(raw)
    except ValueError:
        raise UsageError(f"UPLOAD_MAX_PIXELS={raw!r} is not a whole number") from None
    if value < 1:
        raise UsageError(f"UPLOAD_MAX_PIXELS={value} is below the minimum of 1")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders (recursive)")
    parser.add_argument(
        "--url-prefix",
        metavar="URL",
        help="where the folder is served: each line's url is this followed by the file's path "
        "relative to the folder, URL-quoted (e.g. https://img.example/photos/). Without it the "
        "lines have no url, which imports need.",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="processes hashing in parallel (default: the number of CPUs)",
    )


DESCRIPTION = (
    "Print pHash, dHash and PDQ (hex) of image files as JSON lines that `manage.py import_dataset` "
    "takes, in sorted path order."
)


def run(
    paths: Sequence[str],
    *,
    url_prefix: str | None,
    workers: int,
    stdout: Writer,
    stderr: Writer,
) -> int:
    """Hash and print; the exit status: 0, or 1 when some files could not be hashed."""
    if workers < 1:
        raise UsageError("--workers must be at least 1")
    prefix = check_prefix(url_prefix) if url_prefix is not None else None
    images = collect(paths)
    max_pixels = _max_pixels()
    if prefix is None:
        stderr.write("hash_images: no --url-prefix, so the lines have no url; imports need one.\n")
    progress = _Progress(stderr, len(images))
    failed: list[tuple[str, str]] = []
    jobs = [(image.path, max_pixels) for image in images]
    for image, hashes in zip(images, _results(jobs, workers), strict=True):
        progress.step()
        if "error" in hashes:
            failed.append((image.path, hashes["error"]))
            continue
        line: dict[str, Any] = {"external_id": image.external_id}
        if prefix is not None:
            line["url"] = url_for(prefix, image.external_id)
        line.update(hashes)
        line["path"] = image.path
        stdout.write(json.dumps(line) + "\n")
    stdout.flush()
    progress.done(len(failed))
    for path, error in failed:
        stderr.write(f"{path}: {error}\n")
    return 1 if failed else 0


def _results(jobs: list[tuple[str, int]], workers: int) -> Iterator[dict[str, Any]]:
    workers = min(workers, len(jobs))
    if workers <= 1:
        yield from map(hash_file, jobs)
        return
    # imap keeps the input (sorted) order; small chunks keep the progress bar moving.
    chunksize = max(1, min(16, len(jobs) // (workers * 8)))
    with multiprocessing.get_context().Pool(workers) as pool:
        yield from pool.imap(hash_file, jobs, chunksize=chunksize)


class _Progress:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    def __init__(self, out: Writer, total: int) -> None:
        self.out, self.total, self.count = out, total, 0
        self.started = self.last = time.monotonic()

    def step(self) -> None:
        self.count += 1
        now = time.monotonic()
        if now - self.last >= 0.1 or self.count == self.total:
            self.last = now
            share = self.count / self.total if self.total else 1.0
            rate = self.count / max(now - self.started, 1e-9)
            bar = "#" * int(share * 30)
            self.out.write(f"\r[{bar:<30}] {self.count}/{self.total} files, {rate:.1f}/s")
            self.out.flush()

    def done(self, failed: int) -> None:
        if self.total:
            self.out.write("\n")
        elapsed = time.monotonic() - self.started
        self.out.write(f"{self.total - failed} hashed, {failed} not readable, in {elapsed:.1f} s\n")


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=DESCRIPTION)
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(
            args.paths, url_prefix=args.url_prefix, workers=args.workers, stdout=sys.stdout, stderr=sys.stderr
        )
    except UsageError as exc:
        sys.stderr.write(f"{prog or 'hash_images'}: {exc}\n")
        return 2
    except BrokenPipeError:  # `... | head`: the reader has what it wanted
        return 0


if __name__ == "__main__":
    sys.exit(main(prog="python -m registry.hash_images"))
