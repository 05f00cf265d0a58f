"""Matcher shards held by separate processes: as many codes as this machine holds at once.

`--items` random 64-bit codes (default 40 M; --quick 4 M) cut in `--shards` id ranges (default
4), each range's HammingIndex built and held by a process of its own, as each shard's worker
holds it. The processes build BUILDERS at a time (one per core: more would only share the
cores, and each build needs memory beyond what the index keeps), and all stay resident together.
Their summed RSS is watched while they build and answer: the run stops if it passes
`--rss-limit` GiB (default 7.8) or if the machine's available memory falls under MIN_AVAILABLE,
since the machine is shared.

Then each shard answers the same queries in turn, alone: QUERIES codes, each within 3 bits of a
code of one shard (an equal share from every shard), one per call as a work's search sends
them, at the radii work matching uses; wall time and CPU time (process_time, which the machine's
load distorts less). Last, the merged search: each query sent to every shard at once and
answered when the last shard has answered, as registry.shards.search waits for its slowest
shard (here over pipes, with every shard on this machine's cores; the Redis round trip that
`python -m bench shards` measures end to end comes on top).

The child side (`python -m bench.shards_held --child NUMBER FIRST COUNT SEED SHARE`) speaks JSON
lines on its stdin and stdout.
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
QUERIES = 64
RSS_LIMIT_GIB = 7.8
MIN_AVAILABLE = 2 * 2**30  # stop before the machine's other work runs short of memory
BUILDERS = os.cpu_count() or 1
SEED = 2026


def _rss(pid: int | str = "self") -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _available() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


# --- one shard's process --------------------------------------------------------------------


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _timed(index: Any, queries: np.ndarray, radius: int) -> tuple[float, float, int]:
    """Wall and CPU seconds per query, and the hits over all queries."""
    hits = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for q in queries:
        hits += len(index.search_many(np.array([q], dtype=np.uint64), radius)[0])
    return (time.perf_counter() - wall) / len(queries), (time.process_time() - cpu) / len(queries), hits


def child(number: int, first: int, count: int, seed: int, share: int) -> None:
    from registry.index import HammingIndex

    sys.stdin.readline()  # the parent's word to build: a few at a time
    before = _rss()
    rng = np.random.default_rng([seed, number])
    codes = rng.integers(0, 2**64, size=count, dtype=np.uint64)
    ids = np.arange(first, first + count, dtype=np.int64)
    sample = codes[rng.integers(0, count, size=share)] ^ np.uint64(0b1011)  # 3 bits from a stored code
    wall, cpu = time.perf_counter(), time.process_time()
    index = HammingIndex.build(ids, codes.view(np.int64))
    built, built_cpu = time.perf_counter() - wall, time.process_time() - cpu
    del codes, ids  # the index keeps its own copy; the shard's worker holds only that
    gc.collect()
    _say(
        {
            "built_seconds": built,
            "built_cpu_seconds": built_cpu,
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
        if "one" in message:  # one query of the merged search: answer as soon as it is done
            found = index.search_many(np.array([message["one"]], dtype=np.uint64), message["radius"])
            _say({"hits": len(found[0])})
            continue
        queries = np.array(message["queries"], dtype=np.uint64)
        result: dict[str, Any] = {"per_query_ms": {}, "cpu_per_query_ms": {}, "hits": {}}
        for radius in RADII:
            per_query, cpu_per_query, hits = _timed(index, queries, radius)
            result["per_query_ms"][str(radius)] = per_query * 1e3
            result["cpu_per_query_ms"][str(radius)] = cpu_per_query * 1e3
            result["hits"][str(radius)] = hits
        _say(result)


# --- the parent: start the shards, watch their memory, time them -----------------------------


class _Watch:
    """The shards' summed RSS and the machine's available memory, checked while waiting."""

    def __init__(self, processes: list[subprocess.Popen[str]], rss_limit: int) -> None:
        self.processes = processes
        self.rss_limit = rss_limit
        self.peak = 0
        self.lowest_available = _available()

    def check(self) -> None:
        total = sum(_rss(p.pid) for p in self.processes)
        self.peak = max(self.peak, total)
        available = _available()
        self.lowest_available = min(self.lowest_available, available)
        if total > self.rss_limit:
            raise MemoryError(
                f"the shards held {total / 2**30:.1f} GiB, over the limit of {self.rss_limit / 2**30:.1f} GiB"
            )
        if available < MIN_AVAILABLE:
            raise MemoryError(
                f"the machine had {available / 2**30:.1f} GiB available, "
                f"under {MIN_AVAILABLE / 2**30:.0f} GiB (the shards held {total / 2**30:.1f} GiB)"
            )


def _lines(process: subprocess.Popen[str]) -> queue.Queue[str]:
    """The lines `process` writes, read by a thread of their own."""
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout
    threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
    return lines


def _poll(process: subprocess.Popen[str], lines: queue.Queue[str], timeout: float) -> Any:
    """The next JSON line of `process` if one comes within `timeout`, else None."""
    with contextlib.suppress(queue.Empty):
        return json.loads(lines.get(timeout=timeout))
    if process.poll() is not None:
        raise RuntimeError(f"shard process {process.pid} exited with {process.returncode}")
    return None


def _read(process: subprocess.Popen[str], lines: queue.Queue[str], watch: _Watch) -> Any:
    """The next JSON line of `process`, watching memory while waiting."""
    while (message := _poll(process, lines, 0.5)) is None:
        watch.check()
    return message


def _send(process: subprocess.Popen[str], message: dict[str, Any]) -> None:
    stdin: IO[str] | None = process.stdin
    assert stdin is not None
    stdin.write(json.dumps(message) + "\n")
    stdin.flush()


def _build_all(
    processes: list[subprocess.Popen[str]], outputs: list[queue.Queue[str]], watch: _Watch
) -> list[Any]:
    """Let BUILDERS shards build at a time; each answer (in shard order) once all have built."""
    built: list[Any] = [None] * len(processes)
    waiting = list(range(len(processes)))
    building: list[int] = []
    while waiting or building:
        while waiting and len(building) < BUILDERS:
            s = waiting.pop(0)
            _send(processes[s], {"build": True})
            building.append(s)
        for s in list(building):
            message = _poll(processes[s], outputs[s], 0.1)
            if message is not None:
                built[s] = message
                building.remove(s)
        watch.check()
    return built


def _merged(
    processes: list[subprocess.Popen[str]], outputs: list[queue.Queue[str]], queries: list[int], watch: _Watch
) -> dict[int, float]:
    """Milliseconds per query when every shard is asked at once and the last answer ends it."""
    per_query = {}
    for radius in RADII:
        started = time.perf_counter()
        for code in queries:
            for process in processes:
                _send(process, {"one": code, "radius": radius})
            for process, out in zip(processes, outputs, strict=True):
                _read(process, out, watch)
        per_query[radius] = (time.perf_counter() - started) / len(queries) * 1e3
    return per_query


def _options(items: int | None, quick: bool) -> tuple[int, int, int]:
    n = items or (4_000_000 if quick else 40_000_000)
    shards = int(os.environ.get("BENCH_SHARDS") or SHARDS)
    limit = float(os.environ.get("BENCH_RSS_LIMIT_GIB") or RSS_LIMIT_GIB)
    if shards < 1 or n < shards or limit <= 0:
        raise SystemExit(f"shards_held: {n:,} codes in {shards} shards under {limit} GiB is not a run")
    return n, shards, int(limit * 2**30)


def run(*, quick: bool = False, items: int | None = None) -> None:
    from .common import note, table

    n, shards, rss_limit = _options(items, quick)
    share = QUERIES // shards or 1
    print("## Matcher shards held by separate processes\n")
    note(f"shards_held: {n:,} codes in {shards} processes, {BUILDERS} building at a time")
    load_before = os.getloadavg()
    available_before = _available()
    bounds = np.linspace(0, n, shards + 1).astype(np.int64)
    processes: list[subprocess.Popen[str]] = []
    watch = _Watch(processes, rss_limit)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings"),
    }
    started = time.perf_counter()
    finished = False
    try:
        for s in range(shards):
            first, count = int(bounds[s]) + 1, int(bounds[s + 1] - bounds[s])
            arguments = [str(s), str(first), str(count), str(SEED), str(share)]
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "bench.shards_held", "--child", *arguments],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    env=env,
                )
            )
        outputs = [_lines(p) for p in processes]
        built = _build_all(processes, outputs, watch)
        all_built = time.perf_counter() - started
        held = sum(_rss(p.pid) for p in processes)
        note(f"  all {shards} shards built in {all_built:.0f} s, holding {held / 2**30:.2f} GiB")
        queries = [code for b in built for code in b["sample"]]
        timed = []
        for s, process in enumerate(processes):
            _send(process, {"queries": queries})
            timed.append(_read(process, outputs[s], watch))
            note(f"  shard {s} timed")
        merged = _merged(processes, outputs, queries, watch)
        note("  merged search timed")
        for process in processes:
            _send(process, {"quit": True})
        finished = True
    finally:
        for process in processes:
            if finished and process.poll() is None:
                with contextlib.suppress(Exception):
                    process.wait(timeout=30)
            if process.poll() is None:
                process.kill()
    rows = []
    for s in range(shards):
        count = int(bounds[s + 1] - bounds[s])
        b, t = built[s], timed[s]
        rows.append(
            [
                f"shard {s} ({count:,} codes)",
                f"{b['built_seconds']:.0f} s ({b['built_cpu_seconds']:.0f} s CPU)",
                f"{b['memory_bytes'] / count:.0f} B",
                f"{b['rss_growth'] / count:.0f} B",
                f"{b['rss'] / 2**20:,.0f} MiB",
                *(
                    f"{t['per_query_ms'][str(r)]:.2f} ms, {t['cpu_per_query_ms'][str(r)]:.2f} CPU "
                    f"({t['hits'][str(r)]})"
                    for r in RADII
                ),
            ]
        )
    slowest = {r: max(t["per_query_ms"][str(r)] for t in timed) for r in RADII}
    slowest_cpu = {r: max(t["cpu_per_query_ms"][str(r)] for t in timed) for r in RADII}
    print(f"### {n:,} codes in {shards} shards, each held by its own process\n")
    print(
        f"Random 64-bit codes, ids 1 to {n:,} cut in {shards} equal ranges; each process generated its "
        f"range's codes and built its HammingIndex, {BUILDERS} at a time (all {shards} built in "
        f"{all_built:.0f} s), then held it while the others were timed. {len(queries)} queries, each "
        "within 3 bits of a stored code (an equal share from each shard), one per call; every shard "
        "answers all of them alone (wall and CPU time per query; hits: codes found within the radius "
        f"over all queries; each shard finds at least its own {share}). RSS growth: the process's "
        "resident set after building less before generating its codes, per code; process RSS: all "
        f"of it (interpreter, numpy, faiss). The {shards} processes held {held / 2**30:.2f} GiB "
        f"together (peak {watch.peak / 2**30:.2f} GiB; limit {rss_limit / 2**30:.1f} GiB). "
        f"Machine memory available: {available_before / 2**30:.1f} GiB before, "
        f"{watch.lowest_available / 2**30:.1f} GiB at the lowest. "
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
                *(f"radius {r} / query, CPU (hits)" for r in RADII),
            ],
            rows,
        )
    )
    print(
        "\nThe slowest shard alone: "
        + ", ".join(f"radius {r} {slowest[r]:.2f} ms ({slowest_cpu[r]:.2f} ms CPU)" for r in RADII)
        + f" per query. The merged search, each query sent to all {shards} shards at once and done "
        f"at the last answer ({shards} processes on {os.cpu_count()} cores): "
        + ", ".join(f"radius {r} {merged[r]:.2f} ms" for r in RADII)
        + " per query, plus the Redis round trip.\n"
    )


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "--child":
        import django

        django.setup()
        child(*(int(a) for a in sys.argv[2:]))
    else:
        sys.exit("usage: python -m bench.shards_held --child NUMBER FIRST COUNT SEED SHARE")
