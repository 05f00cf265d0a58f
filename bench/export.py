"""Streamed export of 1 M removals as JSON Lines, CSV and Parquet, with peak memory.

Each format runs the API's writer (`registry.api.export.WRITERS`) over the API's query
(`selectors.removals_for_export`), consuming the stream as the HTTP response would; bytes are
counted and dropped. Peak memory is the process's peak RSS (VmHWM, reset before each format)
above its RSS at the start of that format: what streaming adds, not what Python costs.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
from pathlib import Path

from .common import note, rss_bytes, table
from .pgdb import ROOT, bench_database, fill_removals


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def _peak_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def one(fmt: str, database: str) -> dict[str, float]:
    """Stream one format in this (fresh) process; returns the measurements."""
    from .pgdb import django_setup

    django_setup(database)
    from registry import selectors
    from registry.api import export
    from registry.models import Maintainer

    maintainer = Maintainer.objects.get(name="Bench Org")
    query = selectors.removals_for_export(maintainer)
    query.filter(pk=0).exists()  # connect, and import what the writers import, before measuring
    if fmt == "parquet":
        import pyarrow.parquet  # noqa: F401
    gc.collect()
    _reset_peak()
    base = rss_bytes()
    rows = size = 0
    first_chunk = 0.0
    start = time.perf_counter()
    for chunk in export.WRITERS[fmt](query):
        if not first_chunk:
            first_chunk = time.perf_counter() - start
        size += len(chunk)
        if fmt == "jsonl":
            rows += chunk.count(b"\n")
    elapsed = time.perf_counter() - start
    return {"elapsed": elapsed, "first": first_chunk, "size": size, "peak": _peak_rss() - base, "rows": rows}


def run(*, quick: bool = False) -> None:
    n = 200_000 if quick else 1_000_000
    rows = []
    with bench_database("export") as database:
        note(f"export: writing {n:,} removals")
        fill_removals(database, n)
        for fmt in ("jsonl", "csv", "parquet"):
            # A fresh process per format, so one format's freed memory does not hide the next one's peak.
            out = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    f"import json, bench.export as e; print(json.dumps(e.one({fmt!r}, {database!r})))",
                ],
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
            )
            m = json.loads(out.stdout.strip().splitlines()[-1])
            if fmt == "jsonl":
                assert m["rows"] == n, m
            rows.append(
                [
                    fmt,
                    f"{n / m['elapsed']:,.0f}",
                    f"{m['elapsed']:.1f} s",
                    f"{m['first'] * 1000:.0f} ms",
                    f"{m['size'] / 1e6:,.0f} MB",
                    f"{m['peak'] / 1e6:,.0f} MB",
                ]
            )
            note(f"  {fmt}: {n / m['elapsed']:,.0f} rows/s, peak +{m['peak'] / 1e6:.0f} MB")
    print(f"## Export: {n:,} removals streamed, PostgreSQL on the same machine\n")
    print(
        "Each format in a fresh process: the API's writer over the API's query, the stream consumed "
        "and dropped. Rows/s over the whole stream (query, serialisation, encoding); first byte = time "
        "to the first chunk; peak memory = peak RSS (VmHWM) above the RSS just before streaming.\n"
    )
    print(table(["format", "rows/s", "total", "first byte", "size", "peak memory"], rows))
