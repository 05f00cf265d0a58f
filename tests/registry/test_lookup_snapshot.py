"""The look-up index's arrays shared through a snapshot on disk: mapped by the next process,
exact at commit from the snapshot's read position, refused when the table was rewritten."""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pytest
from django.db import connection

from registry import services
from registry.lookup_index import current_index, lookup_index_reset
from registry.services.removals import RemovalQuery
from tests.registry import test_lookup_index as index_tests
from tests.registry.lookups import Looker
from tests.registry.test_lookup_index import CAT, DOG, NEW, OWL

# The same data set as the index's own tests (and the same live-server client: tests/registry/conftest.py).
world = index_tests.world

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shared_dir(settings: Any, tmp_path: Any) -> Any:
    settings.LOOKUP_INDEX_SNAPSHOT_DIR = str(tmp_path / "lookup-index")
    return tmp_path / "lookup-index"


def _wait_until(condition: Any) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.02)


def _next_process() -> None:
    """Another worker of the same machine: a new index in this process, the same folder."""
    lookup_index_reset()
    assert current_index().state == "cold"


def test_the_first_build_writes_a_snapshot_the_next_process_maps(looker: Looker, world, shared_dir):
    looker.warm()
    assert current_index().built_in > 0  # built from the database, answering from its own copy ...
    # ... then written for the others (after it is ready), and the builder too answers from the files
    _wait_until(lambda: current_index().shared)
    meta = json.loads((shared_dir / "current.json").read_text())
    assert (shared_dir / meta["folder"] / "keys.npy").exists()
    first = (looker.v1([CAT, DOG, OWL, NEW]), looker.v2([CAT, DOG, OWL, NEW]))

    _next_process()
    looker.warm()
    index = current_index()
    assert index.shared is True and isinstance(index.sorted.keys.base, np.memmap)
    served = index.served
    assert (looker.v1([CAT, DOG, OWL, NEW]), looker.v2([CAT, DOG, OWL, NEW])) == first
    assert index.served == served + 2


def test_a_mapped_snapshot_answers_what_committed_after_it_was_written(looker: Looker, world, shared_dir):
    looker.warm()  # the snapshot is exact at this build's read position
    services.removals_record(
        source_ref="RR-2026-000009",
        reason="copyright",
        entries=[services.RemovalEntry(dataset=world["dataset"], url=NEW)],
    )
    services.removals_revoke(removals=RemovalQuery.of_sources(["PF-1"]), why="Lifted.")
    _next_process()  # maps the older snapshot, then reads what committed since its position
    looker.warm()
    assert current_index().shared is True
    served = current_index().served
    assert looker.removed([CAT, DOG, OWL, NEW]) == {CAT, NEW}
    assert current_index().served == served + 2  # from memory
    services.removals_revoke(removals=RemovalQuery.of_sources(["RR-2026-000001"]), why="Lifted.")
    assert looker.removed([CAT, DOG, OWL, NEW]) == {NEW}


def test_a_snapshot_of_a_rewritten_table_is_not_used(looker: Looker, world, shared_dir):
    looker.warm()
    before = json.loads((shared_dir / "current.json").read_text())
    with connection.cursor() as cursor:  # a new relfilenode, as TRUNCATE gives it too
        cursor.execute("VACUUM FULL registry_removal")
    _next_process()
    looker.warm()
    _wait_until(lambda: current_index().shared)  # read from the database again, written anew ...
    after = json.loads((shared_dir / "current.json").read_text())
    assert after["filenode"] != before["filenode"]  # ... and written anew, the old folder gone
    assert not (shared_dir / before["folder"]).exists()
    assert looker.removed([CAT, DOG, OWL, NEW]) == {CAT, DOG}


def test_an_unreadable_snapshot_is_built_again(looker: Looker, world, shared_dir):
    shared_dir.mkdir()
    (shared_dir / "current.json").write_text("{not json")
    looker.warm()
    assert looker.removed([CAT, DOG, OWL, NEW]) == {CAT, DOG}
    assert json.loads((shared_dir / "current.json").read_text())["filenode"] > 0
