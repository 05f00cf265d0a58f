"""`removal-desk filter`: drop the removed rows of data set shards, with a report of why.

    removal-desk filter shards/*.parquet --store removals.sqlite3 --out kept/ --report dropped.csv

Each shard (Parquet, CSV, WebDataset .tar with .json sidecars; or a folder of them) is written
to --out under its own name with the kept rows only, in its own format. A shard that cannot be
read (truncated, corrupt, a sample without its sidecar) gets a line on stderr saying why and
nothing in --out; the others are still done, and the exit status is then 1.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from .store import StoreError


def add_arguments(parser: Any) -> None:
    parser.add_argument("shards", nargs="+", metavar="SHARD", help="shard files, or folders of them")
    parser.add_argument("--store", required=True, help="the SQLite file `removal-desk sync` keeps")
    parser.add_argument("--out", required=True, help="folder for the kept rows (created when missing)")
    parser.add_argument("--report", required=True, help="the dropped rows and why: .csv, else JSON Lines")
    parser.add_argument("--dataset", action="append", help="only this data set's removals (repeatable)")
    parser.add_argument(
        "--domains",
        metavar="FILE",
        help="domain opt-outs, one scope a line (example.com, *.example.com, example.com/path/)",
    )
    parser.add_argument("--radius", type=int, default=6, help="pHash distance that counts as a copy (6)")
    parser.add_argument("--pdq-radius", type=int, default=31, help="PDQ distance, where both have one (31)")
    parser.add_argument("--url-column", default="url")
    parser.add_argument("--phash-column", default="phash")
    parser.add_argument("--pdq-column", default="pdq")
    parser.add_argument("--key-column", default="external_id", help="named in the report (external_id)")
    parser.epilog = (
        "Exit status: 0 when every shard was filtered, 1 when some could not be, 2 for a usage error."
    )


def _shards(names: list[str]) -> list[Path]:
    from .shards import FORMATS

    found: list[Path] = []
    for name in names:
        path = Path(name)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in FORMATS)
        else:
            found.append(path)
    return found


def run(args: Any, *, stderr: Any = sys.stderr) -> int:
    try:
        from .filtering import Removed, Scope
        from .shards import Columns, Report, ShardError, filter_shard, shard_format
    except ImportError as exc:
        stderr.write(f"removal-desk filter: {exc}\n")
        return 2
    shards = _shards(args.shards)
    try:
        for shard in shards:
            if not shard.exists():
                raise ShardError(f"{shard}: no such file")
            shard_format(shard)
        scopes = []
        if args.domains:
            lines = Path(args.domains).read_text(encoding="utf-8").splitlines()
            scopes = [Scope.parse(line) for line in lines if line.strip() and not line.startswith("#")]
        if not Path(args.store).exists():
            raise StoreError(f"{args.store}: no such store; run `removal-desk sync` first")
        started = time.monotonic()
        removed = Removed.from_store(
            args.store, datasets=args.dataset, domains=scopes, radius=args.radius, pdq_radius=args.pdq_radius
        )
    except (ShardError, StoreError, ValueError, OSError) as exc:
        stderr.write(f"removal-desk filter: {exc}\n")
        return 2
    stderr.write(
        f"{len(removed.urls)} removed URLs, {len(removed.codes)} pHashes and {len(scopes)} domain scopes "
        f"loaded in {time.monotonic() - started:.1f} s\n"
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    columns = Columns(args.url_column, args.phash_column, args.pdq_column, args.key_column)
    report = Report(Path(args.report))
    bar = _Bar(stderr, len(shards))
    failed = rows = kept = 0
    try:
        for shard in shards:
            try:
                result = filter_shard(shard, out, removed, columns=columns, report=report, progress=bar.rows)
            except ShardError as exc:
                failed += 1
                bar.line(f"{exc}")
            else:
                rows += result.rows
                kept += result.kept
                why = ", ".join(f"{n} by {reason}" for reason, n in sorted(result.dropped.items())) or "none"
                bar.line(f"{shard}: {result.rows} rows, {result.kept} kept, dropped: {why}")
            bar.shard_done()
    finally:
        report.close()
    bar.finish(
        f"{len(shards) - failed}/{len(shards)} shards filtered, {rows} rows, {kept} kept, "
        f"{rows - kept} dropped (report: {args.report})"
        + (f"; {failed} shard(s) could not be read, see above" if failed else "")
    )
    return 1 if failed else 0


class _Bar:
    """A progress bar on stderr over shards, with the rows' rate; lines every 10 s when not a terminal."""

    def __init__(self, out: Any, shards: int) -> None:
        self.out, self.shards, self.done, self.count = out, shards, 0, 0
        isatty = getattr(out, "isatty", None)
        self.tty = bool(isatty and isatty())
        self.started = self.last = time.monotonic()
        self.drawn = False

    def rows(self, n: int) -> None:
        self.count += n
        self.draw()

    def shard_done(self) -> None:
        self.done += 1
        self.draw(force=True)

    def draw(self, force: bool = False) -> None:
        now = time.monotonic()
        rate = self.count / max(now - self.started, 1e-9)
        if self.tty and (force or now - self.last >= 0.1):
            share = self.done / self.shards if self.shards else 1.0
            self.out.write(
                f"\r\x1b[K[{'#' * int(share * 30):<30}] {self.done}/{self.shards} shards, "
                f"{self.count} rows, {rate:,.0f} rows/s"
            )
            self.drawn = True
            self.last = now
        elif not self.tty and now - self.last >= 10:
            self.out.write(f"{self.done}/{self.shards} shards, {self.count} rows, {rate:,.0f} rows/s\n")
            self.last = now
        self.out.flush()

    def line(self, text: str) -> None:
        if self.drawn:
            self.out.write("\r\x1b[K")
            self.drawn = False
        self.out.write(text + "\n")

    def finish(self, text: str) -> None:
        self.line(text)
        self.out.flush()
