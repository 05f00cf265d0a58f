"""Hash image files the way the site does: one JSON object per line on stdout.

    python manage.py hash_images PATH [PATH ...] [--workers N]

Folders are walked recursively for .jpg, .jpeg, .png and .webp files (hidden
files skipped); files named on the command line are hashed whatever their
name. Each line is {"path", "phash", "dhash", "pdq", "pdq_quality"} (hex, as
the API takes them) or {"path", "error"}; lines come in sorted path order.
Progress goes to stderr.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.hashing import ImageRejected, code_to_hex, compute_hashes, pdq_to_hex

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


def hash_file(job: tuple[str, int]) -> dict[str, Any]:
    """One file -> its output line. Runs in pool workers, so it needs no Django settings."""
    path, max_pixels = job
    try:
        data = Path(path).read_bytes()
        hashes = compute_hashes(data, max_pixels=max_pixels)
    except ImageRejected as exc:
        return {"path": path, "error": str(exc)}
    except OSError as exc:
        return {"path": path, "error": f"cannot read the file ({exc.strerror or exc})"}
    return {
        "path": path,
        "phash": code_to_hex(hashes.phash),
        "dhash": code_to_hex(hashes.dhash),
        "pdq": pdq_to_hex(hashes.pdq),
        "pdq_quality": hashes.pdq_quality,
    }


def collect(paths: list[str]) -> list[str]:
    found: set[str] = set()
    for name in paths:
        path = Path(name)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                for file in files:
                    if not file.startswith(".") and Path(file).suffix.lower() in IMAGE_SUFFIXES:
                        found.add(str(Path(root) / file))
        elif path.exists():
            found.add(str(path))
        else:
            raise CommandError(f"{name}: no such file or folder")
    return sorted(found)


class Command(BaseCommand):
    help = "Print pHash, dHash and PDQ (hex) of image files as JSON lines, in sorted path order."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders (recursive)")
        parser.add_argument(
            "--workers",
            type=int,
            default=os.cpu_count() or 1,
            help="processes hashing in parallel (default: the number of CPUs)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workers = int(options["workers"])
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        files = collect(list(options["paths"]))
        jobs = [(path, settings.UPLOAD_MAX_PIXELS) for path in files]
        progress = _Progress(self.stderr, len(jobs))
        errors = 0
        for line in self._results(jobs, workers):
            errors += "error" in line
            self.stdout.write(json.dumps(line))
            progress.step()
        progress.done(errors)

    def _results(self, jobs: list[tuple[str, int]], workers: int) -> Iterator[dict[str, Any]]:
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

    def __init__(self, out: Any, total: int) -> None:
        self.out, self.total, self.count = out, total, 0
        self.started = self.last = time.monotonic()

    def step(self) -> None:
        self.count += 1
        now = time.monotonic()
        if now - self.last >= 0.1 or self.count == self.total:
            self.last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        share = self.count / self.total if self.total else 1.0
        bar = "#" * int(share * 30)
        rate = self.count / max(now - self.started, 1e-9)
        self.out.write(f"\r[{bar:<30}] {self.count}/{self.total} files, {rate:.1f}/s", ending="")
        self.out.flush()

    def done(self, errors: int) -> None:
        if self.total:
            self.out.write("", ending="\n")
        elapsed = time.monotonic() - self.started
        self.out.write(f"{self.total - errors} hashed, {errors} not readable, in {elapsed:.1f} s")
