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
DB = "rd_bench_imports"


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
    print("\nTimes include process start-up and counting the file's rows; target: at least 50,000 rows/s.")


def _rate_row(label: str, rows: int, seconds: float, baseline: float) -> list[str]:
    rate = rows / seconds
    return [label, f"{rows:,}", f"{seconds:.1f}", f"{rate:,.0f}", f"{rate / baseline:.1f}x"]


_SETUP = """
from registry.models import Maintainer
from registry import services
m, _ = services.maintainer_create(name="Bench", email="bench@example.com")
for slug in ("small", "big", "base"):
    services.dataset_create(maintainer=m, slug=slug, name=slug)
"""
