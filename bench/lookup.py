"""URL look-up against 10 M removals (1 M with --quick), through gunicorn on loopback.

`POST /api/v1/lookup/` (JSON) and `POST /api/v2/query/urls/` (text, one URL a line) in batches of
10,000 URLs, three kinds of batch: half removed (2% of those revoked, which must answer false) and
half unknown; URLs under a domain opt-out (`*.artist.example`) that no data set holds; URLs
removed by nothing. Every answer is checked.

Today's path is measured in the same run, against the same database, on the same server settings:
the code of a baseline commit (BENCH_LOOKUP_BASELINE, default the commit before the in-process
look-up index, which probes PostgreSQL for every URL) is unpacked with `git archive` and served by
a second gunicorn. Each server is timed with one client (URLs/s = 10,000 / the median call) and
with two clients at once (URLs/s of the two together; each call of theirs on a connection of its
own, BENCH_LOOKUP_KEEPALIVE=1: kept alive), the calls' bodies encoded before the clock starts;
the clock stops at the answer's last byte, and the answers are checked after it (the
client's json.loads of 1-3 MB is not the server's time). This code's workers, and a baseline's
that has the index too, are first warmed until each has built its index (its log says so), and
this code's build time and each worker's resident memory before and after are reported.

This code's server shares one index between its workers (LOOKUP_INDEX_SNAPSHOT_DIR in the run's
temporary folder; BENCH_LOOKUP_SHARED=0: each its own), and each worker's Rss, Pss and own heap
after the timed calls are reported for both codes. BENCH_LOOKUP_KEEP=1 keeps the database
(rd_bench_lookup_<n>) for the next run, which uses it again when it holds that run's removals.
"""

from __future__ import annotations

import json
import os
import random
import re
import runpy
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .common import note, table
from .pgdb import ROOT, bench_database, fill_removals, free_port, psql, removal_url, url_of

BATCH = 10_000
BATCHES = 6
TARGET = 250_000  # URLs per second
# The last commit before the in-process look-up index (registry/lookup_index.py).
BASELINE = os.environ.get("BENCH_LOOKUP_BASELINE", "7bff477")
WORKERS = os.environ.get("BENCH_LOOKUP_WORKERS", "2")
THREADS = os.environ.get("BENCH_LOOKUP_THREADS", "2")
# Keep the database (rd_bench_lookup_<n>) for the next run: 10 M removals take minutes to write.
KEEP = os.environ.get("BENCH_LOOKUP_KEEP", "") == "1"
# 0: each worker builds and holds its own index (LOOKUP_INDEX_SNAPSHOT_DIR empty).
SHARED = os.environ.get("BENCH_LOOKUP_SHARED", "1") == "1"
# 1: the two clients keep their connections alive. gthread leaves a kept-alive connection with
# the process that accepted it, and both clients' often land on one process (4 of 6 tries
# here), whose one interpreter lock then serves both: the figure is then one core's. By
# default each call of the two clients opens its own connection, as calls from many clients
# do, and each is accepted by whichever process is free.
KEEP_ALIVE = os.environ.get("BENCH_LOOKUP_KEEPALIVE", "") == "1"


def _mixed(rng: random.Random, n_removals: int) -> tuple[list[str], set[str]]:
    present = [removal_url(rng.randrange(n_removals)) for _ in range(BATCH // 2)]
    absent = [f"https://img.example/missing/{rng.randrange(10**9)}.jpg" for _ in range(BATCH - BATCH // 2)]
    urls = present + absent
    rng.shuffle(urls)
    # Every 50th removal is revoked: those must come back false.
    expected = {u for u in present if int(u.rsplit("/", 1)[1].split(".")[0]) % 50 != 0}
    return urls, expected


def _domain(rng: random.Random) -> tuple[list[str], set[str]]:
    hosts = ["artist.example", "img.artist.example", "a.b.artist.example"]
    urls = [f"https://{rng.choice(hosts)}/unlisted/{rng.randrange(10**9)}.jpg" for _ in range(BATCH)]
    return urls, set(urls)


def _nothing(rng: random.Random) -> tuple[list[str], set[str]]:
    return [f"https://cdn1.site{rng.randrange(10**6)}.example/missing/{k}.jpg" for k in range(BATCH)], set()


def _baseline_tree(tmp: Path) -> Path:
    """The baseline commit's files, unpacked (no checkout is touched)."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", BASELINE], cwd=ROOT, check=True, capture_output=True
    ).stdout
    tmp.mkdir()
    subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
    return tmp


def _web_env() -> dict[str, str]:
    """scripts/web_env.py's WEB_ENV (scripts/ is not a package: read from its file)."""
    return dict(runpy.run_path(str(ROOT / "scripts" / "web_env.py"))["WEB_ENV"])


def _server(tree: Path, database: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": f"{tree}:{tree / 'toolkit'}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": url_of(database),
        "SECRET_KEY": "bench-only-" + "k" * 50,
        # This code's workers share one copy of the index's arrays (a baseline ignores it).
        "LOOKUP_INDEX_SNAPSHOT_DIR": str(log.parent / f"{log.stem}-index") if SHARED else "",
        "DEBUG": "0",
        "API_RATE_LIMIT": "1000000/min",
        # As scripts/production.py runs the web processes (scripts/web_env.py): each thread
        # keeps its connection, and glibc keeps the answers' buffers between requests.
        **{name: os.environ.get(name, value) for name, value in _web_env().items()},
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", WORKERS, "--worker-class", "gthread", "--threads", THREADS, "--timeout", "300"],
        cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"),
    )  # fmt: skip
    return process, f"http://127.0.0.1:{port}"


def _wait(session: Any, base: str) -> None:
    import requests

    for _ in range(300):
        try:
            session.get(base + "/api/v1/datasets/", timeout=5)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn at {base} did not answer")


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _memory_mib(pid: int) -> dict[str, float]:
    """Rss, Pss (shared pages divided among the processes that map them) and Anonymous (the
    process's own heap) from /proc/<pid>/smaps_rollup, in MiB."""
    found = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("Rss", "Pss", "Anonymous"):
            found[name.lower()] = int(rest.split()[0]) / 1024
    return found


def _workers(master: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(master):
            found.append(int(status.parent.name))
    return found


def _warm_index(session: Any, base: str, log: Path, master: int) -> dict[str, float]:
    """Look up until every worker's log line says its index is built: (build seconds, RSS)."""
    import requests

    workers = _workers(master)
    before = {pid: _rss_mib(pid) for pid in workers}
    started = time.perf_counter()
    built: list[float] = []
    while time.perf_counter() - started < 1200:
        # A new connection each time (a kept-alive one stays with one worker).
        requests.post(
            base + "/api/v1/lookup/",
            json={"urls": ["https://img.example/warm.jpg"]},
            headers={"Authorization": session.headers["Authorization"]},
            timeout=300,
        )
        built = [float(x) for x in re.findall(r"lookup index: \d+ removals in ([0-9.]+) s", log.read_text())]
        if len(built) >= len(workers):
            break
        time.sleep(0.5)
    else:
        raise RuntimeError("the workers did not build their look-up index within 20 minutes")
    after = {pid: _rss_mib(pid) for pid in workers}
    return {
        "first_s": min(built),
        "build_s": max(built),
        "rss_before": statistics.mean(before.values()),
        "rss_after": statistics.mean(after.values()),
    }


# A call posts a body and gives the answer's bytes; reading them is the check's, off the clock.
Call = Callable[[Any, bytes], bytes]
Check = Callable[[list[str], bytes], set[str]]


def _post(session: Any, url: str, body: bytes, content_type: str) -> bytes:
    """The answer's bytes in one read, as a client that wants the whole answer reads it:
    requests' `.content` reads 10 KB at a time, 9-12 ms of the client's CPU for a 6 MB answer
    on the 2 cores the server uses too (2.5-4 ms in one read)."""
    response = session.post(url, data=body, headers={"Content-Type": content_type}, timeout=300, stream=True)
    try:
        content = bytes(response.raw.read())
        assert response.status_code == 200, content[:300]
    finally:
        response.raw.release_conn()  # the connection goes back to the session's pool
    return content


def _v1(base: str) -> tuple[Call, Check]:
    def call(session: Any, body: bytes) -> bytes:
        return _post(session, base + "/api/v1/lookup/", body, "application/json")

    def check(urls: list[str], content: bytes) -> set[str]:
        answer = json.loads(content)
        assert len(answer["urls"]) == len(set(urls))
        return {u for u, removed in answer["urls"].items() if removed}

    return call, check


def _v2(base: str) -> tuple[Call, Check]:
    def call(session: Any, body: bytes) -> bytes:
        return _post(session, base + "/api/v2/query/urls/", body, "text/plain")

    def check(urls: list[str], content: bytes) -> set[str]:
        answers = json.loads(content)["urls"]
        assert [a["url"] for a in answers] == urls
        return {a["url"] for a in answers if a["optOut"]}

    return call, check


def _measure(
    sessions: list[Any],
    endpoint: tuple[Call, Check],
    batches: list[tuple[list[str], set[str]]],
    encode: Callable[[list[str]], bytes],
) -> tuple[float, float]:
    """(URLs/s with one client, URLs/s with two at once); every answer checked. The clock runs
    from the request's first byte to the answer's last: the client's own reading of the answer
    (json.loads of 1-3 MB) is the check's, after the clock, so the figure is the server's."""
    call, check = endpoint
    bodies = [encode(urls) for urls, _ in batches]
    small = batches[0][0][:100]
    check(small, call(sessions[0], encode(small)))  # warm
    times = []
    answers: list[bytes] = []
    for body in bodies:
        started = time.perf_counter()
        answers.append(call(sessions[0], body))
        times.append(time.perf_counter() - started)
    for (urls, expected), content in zip(batches, answers, strict=True):
        found = check(urls, content)
        assert found == expected, f"{len(found)} found, {len(expected)} expected"
    single = BATCH / statistics.median(times)

    failures: list[BaseException] = []
    got: dict[int, bytes] = {}

    def client(index: int) -> None:
        try:
            for k in range(index, len(batches), len(sessions)):
                got[k] = call(sessions[index], bodies[k])
        except BaseException as exc:  # reported after the join
            failures.append(exc)

    for session in sessions:
        session.headers["Connection"] = "keep-alive" if KEEP_ALIVE else "close"
    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(sessions))]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    for session in sessions:
        session.headers["Connection"] = "keep-alive"
    if failures:
        raise failures[0]
    for k, (urls, expected) in enumerate(batches):
        assert check(urls, got[k]) == expected
    return single, BATCH * len(batches) / elapsed


def run(*, quick: bool = False, items: int | None = None) -> None:
    n = items or (1_000_000 if quick else 10_000_000)
    with bench_database(f"lookup_{n}", keep=KEEP) as database, tempfile.TemporaryDirectory() as tmp:
        import requests
        from django.db import transaction

        from registry import services
        from registry.hosts import Scope
        from registry.models import DomainOptOut, Removal

        # A kept database (BENCH_LOOKUP_KEEP=1) is used again when it holds this run's rows.
        if Removal.objects.filter(public_id__startswith="rm_bench").count() == n:
            note(f"lookup: {n:,} removals already written ({database}, kept)")
        else:
            psql(database, "TRUNCATE registry_removal CASCADE")  # a run stopped while writing
            note(f"lookup: writing {n:,} removals")
            fill_removals(database, n)
            # As autovacuum leaves a table in use: hint bits set, so reading does not write.
            psql(database, "VACUUM ANALYZE registry_removal")
        if not DomainOptOut.objects.filter(source_ref="RR-2026-999999", revoked_at__isnull=True).exists():
            with transaction.atomic():
                services.domain_optouts_record(
                    source_ref="RR-2026-999999", reason="copyright", scopes=[Scope("artist.example", True)]
                )
        from registry.models import Maintainer

        looker = Maintainer.objects.filter(name="Looker").first()
        if looker is None:
            _, key = services.maintainer_create(name="Looker", email="ops@look.example")
        else:  # a kept database's maintainer: a key of its own for this run
            _, key = services.api_key_create(maintainer=looker, name=f"bench {time.time():.0f}")
        rng = random.Random(7)
        kinds = {
            "half removed (2% of those revoked), half unknown": [_mixed(rng, n) for _ in range(BATCHES)],
            "under an opted-out domain, held by no data set": [_domain(rng) for _ in range(BATCHES)],
            "removed by nothing": [_nothing(rng) for _ in range(BATCHES)],
        }
        trees = {"this code": ROOT, f"baseline {BASELINE}": _baseline_tree(Path(tmp) / "baseline")}
        rows = []
        built: dict[str, float] = {}
        memory: dict[str, dict[str, float]] = {}
        for label, tree in trees.items():
            note(f"lookup: serving {label}")
            log = Path(tmp) / f"gunicorn-{len(built)}-{label.split()[0]}.log"
            process, base = _server(tree, database, log)
            try:
                sessions = [requests.Session() for _ in range(2)]
                sessions[0].headers["Authorization"] = f"Bearer {key}"
                _wait(sessions[0], base)
                # A baseline that has the index too is timed once its workers have built it.
                if (tree / "registry" / "lookup_index.py").exists():
                    warm = _warm_index(sessions[0], base, log, process.pid)
                    note(f"  index built in {warm['build_s']:.1f} s, RSS {warm['rss_before']:.0f} -> "
                         f"{warm['rss_after']:.0f} MiB a worker")  # fmt: skip
                    built = warm if tree == ROOT else built
                for kind, batches in kinds.items():
                    for name, endpoint, encode, scheme in (
                        ("v1", _v1(base), lambda urls: json.dumps({"urls": urls}).encode(), "Bearer"),
                        ("v2", _v2(base), lambda urls: "\n".join(urls).encode(), "API"),
                    ):
                        for session in sessions:
                            session.headers["Authorization"] = f"{scheme} {key}"
                        single, double = _measure(sessions, endpoint, batches, encode)
                        load_now = os.getloadavg()[0]
                        note(f"  {label}, {name}, {kind}: {single:,.0f} / {double:,.0f} URLs/s "
                             f"(load {load_now:.1f})")  # fmt: skip
                        rows.append((label, name, kind, single, double, load_now))
                # After every timed call: what each worker holds, its own and shared.
                each = [_memory_mib(pid) for pid in _workers(process.pid)]
                memory[label] = {k: statistics.mean(m[k] for m in each) for k in ("rss", "pss", "anonymous")}
                note(f"  {label}: a worker's Rss / Pss / own heap {memory[label]['rss']:.0f} / "
                     f"{memory[label]['pss']:.0f} / {memory[label]['anonymous']:.0f} MiB")  # fmt: skip
            finally:
                process.terminate()
                process.wait(30)
        load = os.getloadavg()

    ours = {(e, k): (s, d) for label, e, k, s, d, _ in rows if label == "this code"}
    print(f"## Lookup: batches of {BATCH:,} URLs against {n:,} removals, through gunicorn\n")
    print(
        f"gunicorn on loopback ({WORKERS} processes x {THREADS} threads, gthread) in front of each "
        f"code, the same PostgreSQL database; {BATCHES} batches of each kind; every answer checked. "
        f"One client: 10,000 / the median call; two clients: the {BATCHES} batches shared by two "
        f"threads at once, {'their connections kept alive' if KEEP_ALIVE else 'a connection per call'}; "
        f"the clock stops at each answer's last byte, checked after it. Target: "
        f"{TARGET:,} URLs/s. Load average (1 minute) beside each row; after the run: "
        f"{load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f}.\n"
    )
    sharing = "one snapshot mapped by every worker" if SHARED else "each worker its own copy"
    print(
        f"This code's index ({sharing}): ready in {built['first_s']:.1f} s in the first worker and "
        f"{built['build_s']:.1f} s in the slowest (its log) from {n:,} removals; resident memory "
        f"{built['rss_before']:.0f} MiB a worker before, {built['rss_after']:.0f} MiB after the warm-up.\n"
    )
    for label, held in memory.items():
        print(
            f"- {label}, a worker after the timed calls: Rss {held['rss']:.0f} MiB, Pss "
            f"{held['pss']:.0f} MiB (pages shared with the other worker counted half), own heap "
            f"{held['anonymous']:.0f} MiB"
        )
    print()
    out = []
    for label, endpoint, kind, single, double, load_now in rows:
        mine = ours[(endpoint, kind)]
        out.append(
            [
                label,
                "`POST /api/v1/lookup/`" if endpoint == "v1" else "`POST /api/v2/query/urls/`",
                kind,
                f"{single:,.0f}",
                f"{double:,.0f}",
                f"{mine[0] / single:.2f}x / {mine[1] / double:.2f}x",
                f"{load_now:.1f}",
            ]
        )
    headers = ["code", "endpoint", "batch", "URLs/s, one client", "URLs/s, two clients", "this code vs"]
    print(table([*headers, "load"], out))
