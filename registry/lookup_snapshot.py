"""The look-up index's sorted arrays on disk, shared by the processes of one machine.

Each process (a gunicorn worker) held its own copy of the arrays: at 10 M removals 280 MB of
numpy and a build of 40-80 s from PostgreSQL, per worker. With LOOKUP_INDEX_SNAPSHOT_DIR set,
the first process to build writes its arrays there as .npy files beside the read position
they are exact at (the build's snapshot: xmax and the xip list), and every other process maps
them read-only (np.load(mmap_mode="r")): one copy in the page cache for all, loaded in a
fraction of a second. A process that loads a snapshot applies what committed since its read
position exactly as after its own build (registry/lookup_index.py): the rows of every
transaction that position did not see are read on the first look-up, whatever their age.

What makes a snapshot unusable, checked before it is mapped: another PostgreSQL cluster or
database (system identifier, database name), or a removals table rewritten since (TRUNCATE,
VACUUM FULL: its relfilenode changes, and rows gone that way leave no change stamp to read), or
a read position ahead of the server's (a database restored from an older backup). Then the
process builds from the database and writes a new snapshot.

Writing is atomic: the files go to a new folder, then `current.json` naming it is replaced with
os.replace; a reader opens the folder `current.json` names. Older folders are removed by the
writer (a process that still maps them keeps its pages: unlinked files stay readable). One
builder at a time: a lock file (flock) is held while building, so the second worker of a
server waits for the first one's snapshot instead of reading 10 M rows again.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

log = logging.getLogger(__name__)

_FORMAT = 1
_ARRAYS = ("keys", "key2", "ids", "origins")
_IDENTITY_SQL = """
SELECT (SELECT system_identifier::text FROM pg_control_system()), current_database(),
       pg_relation_filenode('registry_removal')::bigint,
       pg_snapshot_xmax(pg_current_snapshot())::text::bigint
"""


@dataclass
class Snapshot:
    """The arrays (mapped read-only) and what they are exact at."""

    arrays: dict[str, np.ndarray]
    origins: list[tuple[str, str, str]]
    xmax: int
    xip: list[int]


def snapshot_dir() -> Path | None:
    raw = getattr(settings, "LOOKUP_INDEX_SNAPSHOT_DIR", "")
    return Path(raw) if raw else None


def _identity(cursor: Any) -> dict[str, Any]:
    cursor.execute(_IDENTITY_SQL)
    system, database, filenode, xmax = cursor.fetchone()
    return {
        "system": str(system),
        "database": str(database),
        "filenode": int(filenode),
        "server_xmax": int(xmax),
    }


@contextmanager
def build_lock(folder: Path) -> Iterator[None]:
    """Held while one process builds (the others wait, then load what it wrote)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "build.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def snapshot_load(folder: Path, cursor: Any) -> Snapshot | None:
    """The current snapshot, mapped, when it belongs to this database as it is now; else None."""
    try:
        meta = json.loads((folder / "current.json").read_text())
        here = folder / str(meta["folder"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    now = _identity(cursor)
    mine = (meta.get("format"), meta.get("system"), meta.get("database"), meta.get("filenode"))
    if (
        mine != (_FORMAT, now["system"], now["database"], now["filenode"])
        or int(meta["xmax"]) > now["server_xmax"]
    ):
        log.info("lookup index: the snapshot in %s is of another database or table; not used", folder)
        return None
    try:
        # Plain ndarray views of the maps (kept alive by .base): a memmap's indexing runs Python
        # code on every result (0.6 ms a gather), a view's does not.
        arrays = {name: np.asarray(np.load(here / f"{name}.npy", mmap_mode="r")) for name in _ARRAYS}
    except (OSError, ValueError):
        return None
    if len({len(a) for a in arrays.values()}) != 1:
        return None
    origins = [(str(s), str(p), str(q)) for s, p, q in meta["origins"]]
    return Snapshot(arrays=arrays, origins=origins, xmax=int(meta["xmax"]), xip=[int(x) for x in meta["xip"]])


def database_identity(cursor: Any) -> dict[str, Any]:
    """Read inside the build's transaction, after its COPY: the table it read holds its lock
    until commit, so no TRUNCATE can come between (the filenode is the one read)."""
    return _identity(cursor)


def snapshot_write(
    folder: Path,
    *,
    identity: dict[str, Any],
    arrays: dict[str, np.ndarray],
    origins: list[tuple[str, str, str]],
    xmax: int,
    xip: list[int],
) -> None:
    """Write the arrays and their read position, then point current.json at them."""
    name = f"snapshot-{xmax}-{uuid.uuid4().hex[:8]}"
    target = folder / name
    target.mkdir(parents=True)
    for key in _ARRAYS:
        np.save(target / f"{key}.npy", np.ascontiguousarray(arrays[key]))
    meta = {
        "format": _FORMAT,
        "folder": name,
        "system": identity["system"],
        "database": identity["database"],
        "filenode": identity["filenode"],
        "xmax": xmax,
        "xip": xip,
        "origins": origins,
    }
    pending = folder / f".current-{uuid.uuid4().hex[:8]}.json"
    pending.write_text(json.dumps(meta))
    os.replace(pending, folder / "current.json")
    for old in folder.glob("snapshot-*"):
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)
    log.info("lookup index: snapshot of %d removals written to %s", len(arrays["keys"]), target)
