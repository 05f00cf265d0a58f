"""Matcher shards held by separate processes: as many codes as this machine holds at once.

`--items` random 64-bit codes (default 40 M; --quick 4 M) cut in SHARDS id ranges, each range's
HammingIndex built and held by a process of its own, as each shard's worker holds it. All
processes stay resident together (their summed RSS is watched, and the run stops if it passes
RSS_LIMIT), then each shard answers the same queries in turn: QUERIES codes, each within 3 bits
of a code of one shard (an equal share from every shard), one per call as a work's search sends
them, at the radii work matching uses. A sharded search waits for its slowest shard, plus the
Redis round trip that `python -m bench shards` measures end to end.

The child side (`python -m bench.shards_held --child NUMBER FIRST COUNT SEED`) speaks JSON lines
on its stdin and stdout.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import numpy as np

SHARDS = 4
RADII = (5, 8, 10)
QUERIES = 60
RSS_LIMIT = int(7.8 * 2**30)  # the machine is shared: stop before the shards take more than this
SEED = 2026


def _rss(pid: int | str = "self") -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


# --- one shard's process --------------------------------------------------------------------


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def child(number: int, first: int, count: int, seed: int) -> None:
    from registry.index import HammingIndex

    before = _rss()
    rng = np.random.default_rng([seed, number])
    codes = rng.integers(0, 2**64, size=count, dtype=np.uint64)
    ids = np.arange(first, first + count, dtype=np.int64)
    share = QUERIES // SHARDS
    sample = codes[rng.integers(0, count, size=share)] ^ np.uint64(0b1011)  # 3 bits from a stored code
    started = time.perf_counter()
    index = HammingIndex.build(ids, codes.view(np.int64))
    built = time.perf_counter() - started
    del codes, ids  # the index keeps its own copy; the shard's worker holds only that
    gc.collect()
    _say(
        {
            "built_seconds": built,
            "memory_bytes": index.memory_bytes(),
            "rss": _rss(),
            "rss_growth": _rss() - before,
            "sample": [int(c) for c in sample],
        }
    )
    for line in sys.stdin:
        message = json.loads(line)
        if message.get("quit"):
            return
        queries = np.array(message["queries"], dtype=np.uint64)
        result: dict[str, Any] = {"per_query_ms": {}, "hits": {}}
        for radius in RADII:
            hits = 0
            started = time.perf_counter()
            for q in queries:
                hits += len(index.search_many(np.array([q], dtype=np.uint64), radius)[0])
            result["per_query_ms"][str(radius)] = (time.perf_counter() - started) / len(queries) * 1e3
            result["hits"][str(radius)] = hits
        _say(result)


# --- the parent: start the shards, watch their memory, time them -----------------------------


def _lines(process: subprocess.Popen[str]) -> queue.Queue[str]:
    """The lines `process` writes, read by a thread of their own."""
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout
    threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
    return lines


def _read(
    process: subprocess.Popen[str],
    lines: queue.Queue[str],
    processes: list[subprocess.Popen[str]],
    peak: list[int],
) -> Any:
    """The next JSON line of `process`, watching every shard's RSS while waiting."""
    while True:
        with contextlib.suppress(queue.Empty):
            return json.loads(lines.get(timeout=0.5))
        if process.poll() is not None:
            raise RuntimeError(f"shard process {process.pid} exited with {process.returncode}")
        total = sum(_rss(p.pid) for p in processes)
        peak[0] = max(peak[0], total)
        if total > RSS_LIMIT:
            raise MemoryError(f"the shards held {total / 2**30:.1f} GiB, over {RSS_LIMIT / 2**30:.1f} GiB")


def _send(process: subprocess.Popen[str], message: dict[str, Any]) -> None:
    stdin: IO[str] | None = process.stdin
    assert stdin is not None
    stdin.write(json.dumps(message) + "\n")
    stdin.flush()


def run(*, quick: bool = False, items: int | None = None) -> None:
    from .common import note, table

    n = items or (4_000_000 if quick else 40_000_000)
    print("## Matcher shards held by separate processes\n")
    note(f"shards_held: {n:,} codes in {SHARDS} processes")
    load_before = os.getloadavg()
    bounds = np.linspace(0, n, SHARDS + 1).astype(np.int64)
    processes: list[subprocess.Popen[str]] = []
    peak = [0]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings"),
    }
    started = time.perf_counter()
    try:
        for s in range(SHARDS):
            first, count = int(bounds[s]) + 1, int(bounds[s + 1] - bounds[s])
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "bench.shards_held",
                        "--child",
                        str(s),
                        str(first),
                        str(count),
                        str(SEED),
                    ],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    env=env,
                )
            )
        outputs = [_lines(p) for p in processes]
        built = [_read(p, out, processes, peak) for p, out in zip(processes, outputs, strict=True)]
        all_built = time.perf_counter() - started
        held = sum(_rss(p.pid) for p in processes)
        note(f"  all {SHARDS} shards built in {all_built:.0f} s, holding {held / 2**30:.2f} GiB")
        queries = [code for b in built for code in b["sample"]]
        timed = []
        for s, process in enumerate(processes):
            _send(process, {"queries": queries})
            timed.append(_read(process, outputs[s], processes, peak))
            note(f"  shard {s} timed")
        for process in processes:
            _send(process, {"quit": True})
    finally:
        for process in processes:
            if process.poll() is None:
                with contextlib.suppress(Exception):
                    process.wait(timeout=30)
            if process.poll() is None:
                process.kill()
    rows = []
    for s in range(SHARDS):
        count = int(bounds[s + 1] - bounds[s])
        b, t = built[s], timed[s]
        rows.append(
            [
                f"shard {s} ({count:,} codes)",
                f"{b['built_seconds']:.0f} s",
                f"{b['memory_bytes'] / count:.0f} B",
                f"{b['rss_growth'] / count:.0f} B",
                f"{b['rss'] / 2**20:,.0f} MiB",
                *(f"{t['per_query_ms'][str(r)]:.2f} ms ({t['hits'][str(r)]})" for r in RADII),
            ]
        )
    slowest = {r: max(t["per_query_ms"][str(r)] for t in timed) for r in RADII}
    print(f"### {n:,} codes in {SHARDS} shards, each held by its own process\n")
    print(
        f"Random 64-bit codes, ids 1 to {n:,} cut in {SHARDS} equal ranges; each process generated its "
        f"range's codes and built its HammingIndex (all {SHARDS} at once: {all_built:.0f} s), then "
        f"held it while the others were timed. {len(queries)} queries, each within 3 bits of a "
        "stored code (an equal share from each shard), one per call; every shard answers all of "
        "them (hits: codes found within the radius over all queries; each shard finds at least its "
        f"own {QUERIES // SHARDS}). RSS growth: the process's resident set after building less "
        "before generating its codes, per code; process RSS: all of it (interpreter, numpy, faiss). "
        f"The {SHARDS} processes held "
        f"{held / 2**30:.2f} GiB together (peak {peak[0] / 2**30:.2f} GiB while building). "
        f"Load average before: {', '.join(f'{x:.1f}' for x in load_before)}; after: "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}.\n"
    )
    print(
        table(
            [
                "shard",
                "build",
                "index memory / code",
                "RSS growth / code",
                "process RSS",
                *(f"radius {r} / query (hits)" for r in RADII),
            ],
            rows,
        )
    )
    print(
        "\nA sharded search waits for its slowest shard: "
        + ", ".join(f"radius {r} {slowest[r]:.2f} ms" for r in RADII)
        + " per query here, plus the round trip through Redis.\n"
    )


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--child":
        import django

        django.setup()
        child(*(int(a) for a in sys.argv[2:]))
    else:
        sys.exit("usage: python -m bench.shards_held --child NUMBER FIRST COUNT SEED")
