"""A throw-away PostgreSQL database per benchmark (`rd_bench_<name>`), and Django pointed at it.

The benchmarks never touch the `test` database: each creates its own with createdb, migrates it,
and drops it at the end. BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432) says where.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from .common import note

SERVER = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
ROOT = Path(__file__).resolve().parent.parent


def _pg_args() -> list[str]:
    parts = urlsplit(SERVER)
    return [
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 5432),
        "-U",
        parts.username or "postgres",
    ]


def url_of(name: str) -> str:
    return f"{SERVER}/{name}"


def django_setup(database: str) -> None:
    """Set Django up once per process (on `database`); later calls only switch the database."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("OUTBOUND_ALLOW_LOOPBACK", "1")
    os.environ["DATABASE_URL"] = url_of(database)
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = database


def _exists(database: str) -> bool:
    out = subprocess.run(
        ["psql", *_pg_args(), "-d", "postgres", "-qAt", "-c",
         f"SELECT 1 FROM pg_database WHERE datname = '{database}'"],  # noqa: S608 (our own name)
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return out.stdout.strip() == "1"


@contextmanager
def bench_database(name: str, *, keep: bool = False) -> Iterator[str]:
    """createdb rd_bench_<name>, migrate, point Django at it; dropdb afterwards.

    With `keep` (a benchmark whose rows take minutes to write) a database left by an earlier run
    is used again, migrated, and left in place at the end: the benchmark checks that it holds
    what it needs and writes only what is missing."""
    # BENCH_DB_SUFFIX keeps two checkouts benchmarking on one server apart.
    database = f"rd_bench_{name}{os.environ.get('BENCH_DB_SUFFIX', '')}"
    if not (keep and _exists(database)):
        subprocess.run(["dropdb", *_pg_args(), "--if-exists", "--force", database], check=True)
        subprocess.run(["createdb", *_pg_args(), database], check=True)
    try:
        django_setup(database)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        yield database
    finally:
        from django.db import connection

        connection.close()
        if not keep:
            subprocess.run(["dropdb", *_pg_args(), "--if-exists", "--force", database], check=True)


def psql(database: str, sql: str) -> str:
    out = subprocess.run(
        ["psql", *_pg_args(), "-d", database, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout


def fill_removals(database: str, n: int, *, datasets: int = 4) -> None:
    """`n` removals spread over `datasets` data sets of one maintainer, written by PostgreSQL itself.

    url_key is computed in SQL exactly as registry.models.url_key does (the first 8 bytes of
    SHA-256, signed), so the look-up finds them. URL i is https://img.example/<dataset>/<i>.jpg.
    """
    from registry import services

    maintainer, _ = services.maintainer_create(name="Bench Org", email="ops@bench.example")
    for d in range(datasets):
        services.dataset_create(maintainer=maintainer, slug=f"set-{d}", name=f"Set {d}")
    started = time.perf_counter()
    psql(
        database,
        f"""
        INSERT INTO registry_removal
            (public_id, dataset_id, external_id, url, url_key, phash, reason, source_ref, approved_at, state)
        SELECT 'rm_bench' || i, ds.id, i::text, u.url,
               ('x' || left(encode(sha256(convert_to(u.url, 'UTF8')), 'hex'), 16))::bit(64)::bigint,
               (random() * 9.2e18)::bigint, 'copyright', 'RR-2026-' || lpad((i / 5)::text, 6, '0'),
               now() - (i || ' seconds')::interval,
               CASE WHEN i % 50 = 0 THEN 'revoked' WHEN i % 3 = 0 THEN 'acknowledged' ELSE 'delivered' END
        FROM generate_series(0, {n - 1}) AS i
        JOIN registry_dataset ds ON ds.slug = 'set-' || (i % {datasets})
        CROSS JOIN LATERAL (SELECT 'https://img.example/' || ds.slug || '/' || i || '.jpg' AS url) u;
        ANALYZE registry_removal;
        """,  # noqa: S608 (numbers only)
    )
    note(f"  {n:,} removals written in {time.perf_counter() - started:.1f} s")


def removal_url(i: int, datasets: int = 4) -> str:
    return f"https://img.example/set-{i % datasets}/{i}.jpg"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
