"""Bulk index imports into PostgreSQL through `manage.py import_dataset`.

Rows per second for a 1-million-row CSV (fresh rows, then the same file
again as updates), against a baseline in the same database: the per-batch
ORM path the items endpoint uses (registry.services.items_upsert, 10,000
rows a call). Peak memory of the import process at 200k and 1M rows shows
whether memory grows with the file.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import note, table

ROOT = Path(__file__).resolve().parent.parent
DB = f"rd_bench_imports{os.environ.get('BENCH_DB_SUFFIX', '')}"  # see bench/pgdb.py


def _psql(*sql: str) -> None:
    for statement in sql:
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", statement],
            check=True,
            capture_output=True,
        )


def _write_csv(path: Path, rows: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    with path.open("w") as f:
        f.write("external_id,url,phash,dhash\n")
        for i in range(rows):
            f.write(
                f"img-{i},https://img.example.com/set/{i % 997}/{i}.jpg,"
                f"{rng.getrandbits(64):016x},{rng.getrandbits(64):016x}\n"
            )


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )


_MEASURED = (
    "import runpy, sys\n"
    "sys.argv = ['manage.py', *sys.argv[1:]]\n"
    "try:\n"
    "    runpy.run_path('manage.py', run_name='__main__')\n"
    "finally:\n"
    # VmHWM, not ru_maxrss: after fork and exec, ru_maxrss keeps the parent's peak.
    "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
    "    print('PEAK_KB', hwm, file=sys.stderr)\n"
)


def _import(env: dict[str, str], slug: str, path: Path) -> tuple[float, int]:
    """Seconds and peak RSS (bytes) of one `import_dataset` run in its own process."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, "import_dataset", slug, str(path)],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    peak_kb = int(done.stderr.rsplit("PEAK_KB", 1)[1].split()[0])
    return seconds, peak_kb * 1024


def _orm_baseline(env: dict[str, str], slug: str, rows: int) -> float:
    code = f"""
import os, random, time, django
django.setup()
from registry.models import Dataset
from registry.services import items_upsert
rng = random.Random(2)
dataset = Dataset.objects.get(slug={slug!r})
def code():
    return f"{{rng.getrandbits(64):016x}}"
rows = [{{"external_id": f"b-{{i}}", "url": f"https://img.example.com/b/{{i}}.jpg", "phash": code(),
          "dhash": code()}} for i in range({rows})]
start = time.perf_counter()
for i in range(0, len(rows), 10_000):
    items_upsert(dataset=dataset, rows=rows[i:i + 10_000])
print(time.perf_counter() - start)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return float(out.stdout.strip().splitlines()[-1])


_RAW_COPY = """
import io, sys, time, django
django.setup()
from django.db import connection, transaction
from registry.hosts import url_host_path
from registry.models import Dataset, url_key
from removal_desk_toolkit.hashing import hex_to_code
dataset = Dataset.objects.get(slug=sys.argv[1])
NOW = "2026-12-01 00:00:00+00"
# The rows in the table's own form, prepared before the clock starts: what COPY alone costs.
lines = []
with open(sys.argv[2]) as handle:
    next(handle)
    for line in handle:
        external_id, url, phash, dhash = line.rstrip("\\n").split(",")
        host, path = url_host_path(url)
        lines.append(
            f"{dataset.pk}\\t{external_id}\\t{url}\\t{url_key(url)}\\t{host}\\t{path}\\t"
            f"{hex_to_code(phash)}\\t{hex_to_code(dhash)}\\t{NOW}\\t{NOW}\\n"
        )
data = "".join(lines).encode()
del lines
start = time.perf_counter()
with transaction.atomic(), connection.cursor() as cursor:
    with cursor.cursor.copy(
        "COPY registry_datasetitem (dataset_id, external_id, url, url_key, host, path, phash, dhash,"
        " created_at, updated_at) FROM STDIN"
    ) as copy:
        for at in range(0, len(data), 1 << 20):
            copy.write(data[at : at + (1 << 20)])
print(time.perf_counter() - start)
"""


def _raw_copy(env: dict[str, str], slug: str, path: Path) -> float:
    """Seconds of one psycopg COPY of the file's rows, already in the table's form, into the table."""
    out = subprocess.run(
        [sys.executable, "-c", _RAW_COPY, slug, str(path)],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1])


def run(quick: bool = False) -> None:
    big = 200_000 if quick else 1_000_000
    small = 50_000 if quick else 200_000
    baseline_rows = 50_000 if quick else 200_000
    _psql(f"DROP DATABASE IF EXISTS {DB}", f"CREATE DATABASE {DB}")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
        # No worker runs here: re-matching after the import is not measured.
        "CELERY_BROKER_URL": "memory://",
    }
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env["VAR_DIR"] = tmp
            _manage(env, "migrate", "-v", "0")
            _manage(env, "shell", "-c", _SETUP)
            small_csv, big_csv = Path(tmp) / "small.csv", Path(tmp) / "big.csv"
            note(f"imports: writing {small:,} and {big:,}-row CSV files")
            _write_csv(small_csv, small, seed=3)
            _write_csv(big_csv, big)
            note("imports: small file")
            _, small_peak = _import(env, "small", small_csv)
            note("imports: big file, fresh rows")
            fresh_seconds, big_peak = _import(env, "big", big_csv)
            note("imports: big file again, as updates")
            update_seconds, _ = _import(env, "big", big_csv)
            note("imports: raw COPY of the big file's rows")
            raw_seconds = _raw_copy(env, "raw", big_csv)
            note("imports: big file into a fresh data set, right after the raw COPY")
            again_seconds, _ = _import(env, "big2", big_csv)
            note("imports: ORM baseline")
            orm_seconds = _orm_baseline(env, "base", baseline_rows)
    finally:
        _psql(f"DROP DATABASE IF EXISTS {DB}")

    print("## Imports into PostgreSQL\n")
    orm_rate = baseline_rows / orm_seconds
    print(
        table(
            ["path", "rows", "seconds", "rows/s", "vs ORM baseline"],
            [
                _rate_row("import_dataset, new rows", big, fresh_seconds, orm_rate),
                _rate_row("import_dataset, same rows again (updates)", big, update_seconds, orm_rate),
                _rate_row("baseline: items_upsert (ORM), 10k a call", baseline_rows, orm_seconds, orm_rate),
            ],
        )
    )
    raw_rate = big / raw_seconds
    print()
    print(
        table(
            ["path, same file, same table", "rows", "seconds", "rows/s", "vs raw COPY"],
            [
                _rate_row("raw psycopg COPY of the rows in the table's form", big, raw_seconds, raw_rate),
                _rate_row("import_dataset, new rows (before the raw COPY)", big, fresh_seconds, raw_rate),
                _rate_row("import_dataset, new rows (after the raw COPY)", big, again_seconds, raw_rate),
                _rate_row("import_dataset, updates", big, update_seconds, raw_rate),
            ],
        )
    )
    load = os.getloadavg()
    print(f"\nLoad average after: {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f}.")
    print()
    print(
        table(
            ["import of", "peak memory of the process"],
            [
                [f"{small:,} rows", f"{small_peak / 2**20:.0f} MB"],
                [f"{big:,} rows", f"{big_peak / 2**20:.0f} MB"],
            ],
        )
    )
    print(
        "\nimport_dataset times include process start-up and counting the file's rows; targets: at "
        "least 50,000 rows/s, and at least 0.50x a raw COPY of the same rows into the same table "
        "(registry_datasetitem with all its indexes), timed alone: the rows turned into COPY text "
        "(hashes as integers, url_key, host and path) before its clock starts."
    )


def _rate_row(label: str, rows: int, seconds: float, baseline: float) -> list[str]:
    rate = rows / seconds
    return [label, f"{rows:,}", f"{seconds:.1f}", f"{rate:,.0f}", f"{rate / baseline:.1f}x"]


_SETUP = """
from registry.models import Maintainer
from registry import services
m, _ = services.maintainer_create(name="Bench", email="bench@example.com")
for slug in ("small", "big", "base", "raw", "big2"):
    services.dataset_create(maintainer=m, slug=slug, name=slug)
"""
