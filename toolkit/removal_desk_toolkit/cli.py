"""The toolkit's console scripts. `removal-desk-hash`: hash a data set's image files as the registry does.

    removal-desk-hash FOLDER [FOLDER|FILE ...] [--url-prefix URL] [--workers N]
    python manage.py hash_images ...    (the same program, in a clone of the server)

It needs nothing but this package: no Django, no settings, no SECRET_KEY, no database.
Every file under the folders (walked recursively) and every file named gets a line:

- hashed: one JSON line on stdout, in sorted path order, in the form the imports
  (`manage.py import_dataset`, `POST /api/v1/datasets/{slug}/imports/`) take as it is:

      {"external_id": "2024/cat 1.jpg", "url": "https://img.example/photos/2024/cat%201.jpg",
       "phash": "...", "dhash": "...", "pdq": "...", "pdq_quality": 100, "path": "photos/2024/cat 1.jpg"}

  external_id is the file's path relative to the folder it was found in (or the file's name,
  for a file named on the command line); url is --url-prefix followed by that path, URL-quoted.
- not hashed: `PATH: not hashed: why` on stderr (an SVG, a GIF, a truncated JPEG, a text file
  named .jpg, an image over the pixel limit, a file that cannot be read ...). The exit status
  is then 1.
- skipped: `PATH: skipped: why` on stderr, for what is plainly not an image: hidden files and
  folders (.DS_Store, .git/) and documents by their name (.txt, .md, .json, .csv, ...). These
  do not change the exit status. A file named on the command line is never skipped.

Usage errors exit with 2. Progress goes to stderr: a bar on a terminal, otherwise a line
every 10 seconds, and a summary at the end.

Hashing runs in a pool of processes (one per CPU by default), each importing only what
hashing needs; the parent process only walks the folders and writes the lines.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import stat
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple, Protocol
from urllib.parse import quote, urlsplit

DEFAULT_MAX_PIXELS = 50_000_000  # the site's UPLOAD_MAX_PIXELS default
EXTERNAL_ID_MAX = 200  # the registry's longest external_id
# Names that say "not an image" plainly enough to skip (with a line) rather than fail on.
DOCUMENT_SUFFIXES = frozenset(
    [
        ".txt",
        ".md",
        ".rst",
        ".json",
        ".jsonl",
        ".ndjson",
        ".csv",
        ".tsv",
        ".parquet",
        ".yaml",
        ".yml",
        ".toml",
        ".xml",
        ".html",
        ".htm",
        ".py",
        ".sh",
        ".log",
        ".pdf",
        ".zip",
        ".tar",
        ".gz",
    ]
)
SYSTEM_FILES = frozenset({"thumbs.db", "desktop.ini"})

DESCRIPTION = (
    "Print pHash, dHash and PDQ (hex) of image files as JSON lines that `manage.py import_dataset` "
    "and the imports API take, in sorted path order; every other file gets a line on stderr."
)


class Writer(Protocol):
    def write(self, text: str, /) -> Any: ...
    def flush(self) -> Any: ...


class UsageError(Exception):
    """The command line cannot be run as given; the message says why, in one line."""


class File(NamedTuple):  # not a dataclass: importing dataclasses costs the start-up 6 ms
    path: str  # as found on disk, for reading and for the person
    external_id: str  # relative to the folder named on the command line, with "/"
    skip: str | None = None  # why it is not hashed at all, when it plainly is not an image


def hash_file(job: tuple[str, int]) -> dict[str, Any]:
    """One file -> its hashes, or {"error": why}. Runs in the pool's processes."""
    from removal_desk_toolkit.hashing import ImageRejected, code_to_hex, compute_hashes, pdq_to_hex

    path, max_pixels = job
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            return {"error": "not a regular file (a pipe, socket or device); nothing to hash"}
        data = Path(path).read_bytes()
        hashes = compute_hashes(data, max_pixels=max_pixels, variants=False)
    except ImageRejected as exc:
        return {"error": str(exc)}
    except OSError as exc:
        return {"error": f"cannot read the file ({exc.strerror or exc})"}
    except Exception as exc:  # a fault of the decoder on this one file: say so, keep going
        return {"error": f"the decoder failed on it ({type(exc).__name__}: {exc})"}
    return {
        "phash": code_to_hex(hashes.phash),
        "dhash": code_to_hex(hashes.dhash),
        "pdq": pdq_to_hex(hashes.pdq),
        "pdq_quality": hashes.pdq_quality,
    }


def _load_hashing() -> None:
    """Ready a process to hash: in the parent before it forks, else in each new process (spawn).

    Imports the hashing code, and asks glibc's malloc to keep the buffers of one image for
    the next: by default every buffer over 128 KiB (a decoded photo, PDQ's luma planes) is
    mapped and unmapped again, so each image paid about 8 ms of page faults.
    """
    import removal_desk_toolkit.hashing  # noqa: F401

    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.mallopt(-3, 32 * 1024 * 1024)  # M_MMAP_THRESHOLD: glibc's maximum, 32 MiB
        libc.mallopt(-1, 256 * 1024 * 1024)  # M_TRIM_THRESHOLD: keep up to 256 MiB freed
    except (OSError, AttributeError, TypeError):  # not glibc (macOS, Windows): the defaults stay
        pass


def _skip_reason(name: str) -> str | None:
    if name.startswith("."):
        return "a hidden file, not part of the data set"
    if name.lower() in SYSTEM_FILES:
        return "a file the operating system keeps, not part of the data set"
    suffix = Path(name).suffix.lower()
    if suffix in DOCUMENT_SUFFIXES:
        return f"not an image by its name ({suffix})"
    return None


def collect(paths: Sequence[str]) -> list[File]:
    """Every file under the folders and every file named, sorted by path, with its external id."""
    found: dict[str, File] = {}
    for name in paths:
        path = Path(name)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                for folder in [d for d in dirs if d.startswith(".")]:
                    full = Path(root) / folder
                    found[str(full)] = File(
                        f"{full}{os.sep}", full.relative_to(path).as_posix(), "a hidden folder, not walked"
                    )
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                for file in files:
                    full = Path(root) / file
                    found[str(full)] = File(str(full), full.relative_to(path).as_posix(), _skip_reason(file))
        elif path.exists() or path.is_symlink():
            found[str(path)] = File(str(path), path.name)
        else:
            raise UsageError(f"{name}: no such file or folder")
    images = [found[key] for key in sorted(found)]
    owners: dict[str, str] = {}
    for image in images:
        if image.skip is not None:
            continue
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


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


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
        default=_cpus(),
        help="processes hashing in parallel (default: the number of CPUs)",
    )
    parser.epilog = (
        "Images over UPLOAD_MAX_PIXELS pixels (default 50,000,000, as on the site) are not hashed. "
        "Exit status: 0 when every image was hashed, 1 when some file was not, 2 for a usage error."
    )


def run(
    paths: Sequence[str],
    *,
    url_prefix: str | None,
    workers: int,
    stdout: Writer,
    stderr: Writer,
) -> int:
    """Hash and print; the exit status: 0, or 1 when some file could not be hashed."""
    if workers < 1:
        raise UsageError("--workers must be at least 1")
    prefix = check_prefix(url_prefix) if url_prefix is not None else None
    max_pixels = _max_pixels()
    with _Hashers(workers) as hashers:
        files = collect(paths)  # (spawned processes start up meanwhile)
        if prefix is None:
            stderr.write("note: no --url-prefix, so the lines have no url; imports need one.\n")
        progress = _Progress(stderr, len(files))
        todo = [file for file in files if file.skip is None]
        results = hashers.map([(file.path, max_pixels) for file in todo])
        failed = 0
        for file in files:
            if file.skip is not None:
                progress.line(f"{file.path}: skipped: {file.skip}")
                progress.step(skipped=True)
                continue
            hashes = next(results)
            if "error" in hashes:
                failed += 1
                progress.line(f"{file.path}: not hashed: {hashes['error']}")
            else:
                line: dict[str, Any] = {"external_id": file.external_id}
                if prefix is not None:
                    line["url"] = url_for(prefix, file.external_id)
                line.update(hashes)
                line["path"] = file.path
                stdout.write(json.dumps(line) + "\n")
            progress.step()
    stdout.flush()
    progress.done(failed)
    return 1 if failed else 0


class _Hashers:
    """A pool of hashing processes, started before the folders are walked; none for one worker."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool: Any = None
        if workers > 1:
            context = multiprocessing.get_context()
            if context.get_start_method() == "fork":
                _load_hashing()  # once, here: the forked processes start with it loaded
            self.pool = context.Pool(workers, initializer=_load_hashing)

    def __enter__(self) -> _Hashers:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()

    def map(self, jobs: list[tuple[str, int]]) -> Iterator[dict[str, Any]]:
        if self.pool is None or len(jobs) <= 1:
            _load_hashing()
            return map(hash_file, jobs)
        # imap keeps the input (sorted) order; small chunks keep every process busy to the end.
        chunksize = max(1, min(16, len(jobs) // (self.workers * 32)))
        return iter(self.pool.imap(hash_file, jobs, chunksize=chunksize))


class _Progress:
    """Progress on stderr: a bar redrawn at most ten times a second on a terminal, else a line every 10 s."""

    def __init__(self, out: Writer, total: int) -> None:
        self.out, self.total = out, total
        self.count = self.skipped = 0
        self.started = self.last = time.monotonic()
        isatty = getattr(out, "isatty", None)
        self.tty = bool(isatty and isatty())
        self.drawn = False

    def line(self, text: str) -> None:
        if self.drawn:
            self.out.write("\r\x1b[K")
            self.drawn = False
        self.out.write(text + "\n")

    def step(self, *, skipped: bool = False) -> None:
        self.count += 1
        self.skipped += skipped
        now = time.monotonic()
        if self.tty and (now - self.last >= 0.1 or self.count == self.total):
            self.last = now
            share = self.count / self.total if self.total else 1.0
            bar = "#" * int(share * 30)
            self.out.write(f"\r[{bar:<30}] {self.count}/{self.total} files, {self._rate(now):.1f}/s")
            self.out.flush()
            self.drawn = True
        elif not self.tty and now - self.last >= 10:
            self.last = now
            left = (self.total - self.count) / max(self._rate(now), 1e-9)
            self.out.write(
                f"{self.count}/{self.total} files, {self._rate(now):.1f}/s, about {left:.0f} s left\n"
            )
            self.out.flush()

    def _rate(self, now: float) -> float:
        return (self.count - self.skipped) / max(now - self.started, 1e-9)

    def done(self, failed: int) -> None:
        if self.drawn:
            self.out.write("\n")
        elapsed = time.monotonic() - self.started
        hashed = self.total - self.skipped - failed
        self.out.write(
            f"{self.total}/{self.total} files: {hashed} hashed, {failed} not readable, "
            f"{self.skipped} skipped, in {elapsed:.1f} s\n"
        )
        self.out.flush()


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    # The files are hashed in parallel by processes; numpy's BLAS threads would only add
    # start-up time (about 0.05 s a process) and contend with them.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    parser = argparse.ArgumentParser(prog=prog, description=DESCRIPTION)
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(
            args.paths, url_prefix=args.url_prefix, workers=args.workers, stdout=sys.stdout, stderr=sys.stderr
        )
    except UsageError as exc:
        sys.stderr.write(f"{prog or 'removal-desk-hash'}: {exc}\n")
        return 2
    except BrokenPipeError:  # `... | head`: the reader has what it wanted
        # Point stdout at /dev/null so that Python's own flush at exit finds no closed pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted; the lines printed so far are complete\n")
        return 130


def hash_main() -> int:
    """The `removal-desk-hash` console script."""
    return main(prog="removal-desk-hash")


if __name__ == "__main__":
    sys.exit(hash_main())


DESK_DESCRIPTION = (
    "Removal Desk's tools for data set maintainers: hash images, keep a local copy of a data "
    "set's removals (sync, webhooks), and drop the removed rows of data set shards (filter)."
)


def desk_main(argv: Sequence[str] | None = None) -> int:
    """The `removal-desk` console script: one command with a subcommand per tool.

    Each subcommand imports its own module only when chosen, so `removal-desk sync` never loads
    the image libraries and `removal-desk hash` never loads pyarrow."""
    parser = argparse.ArgumentParser(prog="removal-desk", description=DESK_DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    hashing = commands.add_parser("hash", help="hash image files as the registry does (removal-desk-hash)")
    add_arguments(hashing)
    from . import filter_command, sync, webhooks

    syncing = commands.add_parser("sync", help="bring a local copy of a data set's removals up to date")
    sync.add_arguments(syncing)
    filtering = commands.add_parser("filter", help="drop the removed rows of data set shards, with a report")
    filter_command.add_arguments(filtering)
    receiving = commands.add_parser("webhooks", help="receive the registry's signed webhooks into the store")
    webhooks.add_arguments(receiving)
    args = parser.parse_args(argv)
    if args.command == "hash":
        return main([*args.paths, *_hash_options(args)], prog="removal-desk hash")
    if args.command == "sync":
        return sync.run(args)
    if args.command == "filter":
        return filter_command.run(args)
    return webhooks.run(args)


def _hash_options(args: argparse.Namespace) -> list[str]:
    options = ["--workers", str(args.workers)]
    if args.url_prefix is not None:
        options += ["--url-prefix", args.url_prefix]
    return options
