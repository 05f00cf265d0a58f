"""Matcher shards (registry/shards.py): real `manage.py shard_worker` processes on the test
database and Redis, each holding different shards of one data set; searches routed to every
shard and merged; a worker killed mid-search; a shard nobody answers for."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from registry import matching, shards
from registry import services as registry_services
from registry.hashing import code_to_hex
from registry.index import DatasetIndexes
from registry.models import DatasetItem, IndexShard, WorkerHeartbeat
from registry.shards import ShardRef, ShardUnavailable, coverage_gap
from requests_app import services as request_services
from requests_app import tasks as request_tasks
from requests_app.models import HashState, Match, Work
from tests.helpers import ROOT, database_url, photo_bytes

# --- helpers ---------------------------------------------------------------------------


def flip(code: int, *bits: int) -> int:
    value = code & 0xFFFFFFFFFFFFFFFF
    for bit in bits:
        value ^= 1 << bit
    return value - (1 << 64) if value >= 1 << 63 else value


def add_items(dataset: Any, codes: list[tuple[int, int]], prefix: str) -> list[int]:
    """Items with these (pHash, dHash) pairs, in order; returns their ids."""
    rows = [
        {
            "external_id": f"{prefix}{n}",
            "url": f"https://img.example/{prefix}{n}.jpg",
            "phash": code_to_hex(p),
            "dhash": code_to_hex(d),
        }
        for n, (p, d) in enumerate(codes)
    ]
    for start in range(0, len(rows), 1000):
        registry_services.items_upsert(dataset=dataset, rows=rows[start : start + 1000])
    by_external = dict(
        DatasetItem.objects.filter(dataset=dataset, external_id__startswith=prefix).values_list(
            "external_id", "pk"
        )
    )
    return [by_external[f"{prefix}{n}"] for n in range(len(rows))]


def random_pairs(rng: np.random.Generator, n: int) -> list[tuple[int, int]]:
    codes = rng.integers(-(1 << 63), (1 << 63) - 1, size=(n, 2), dtype=np.int64)
    return [(int(p), int(d)) for p, d in codes]


class ShardedWeb(NamedTuple):
    dataset: Any
    queues: list[str]  # each shard's queue, by number
    key: str  # the data set's name among /health/'s shards


def web_in_two_shards(maintainer: Any, *, seed: int, items: int = 40, build: bool = True) -> ShardedWeb:
    """A data set `web` of random hashes cut in two shards at its middle item, built at once or
    (build=False) left for its workers to build."""
    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="web", name="Web")
    ids = add_items(dataset, random_pairs(np.random.default_rng(seed), items), "h")
    at = ["--at", str(ids[items // 2])] + ([] if build else ["--no-build"])
    call_command("shard_add", "web", *at, stdout=StringIO(), stderr=StringIO())
    queues = [shard.queue for shard in IndexShard.objects.filter(dataset=dataset).order_by("number")]
    return ShardedWeb(dataset, queues, f"web (#{dataset.pk})")


def ordinary_queues_served() -> None:
    """A fresh heartbeat on every ordinary queue, as if a worker had just taken it: /health/ then
    has only what the test changes to say (a stale queue, a shard)."""
    for queue in django_settings.WORKER_QUEUES:
        WorkerHeartbeat.objects.create(queue=queue, hostname="w1", seen_at=timezone.now())


@dataclass
class ShardWorker:
    process: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes (their own process group, started below)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)


@contextmanager
def shard_workers(*holdings: tuple[str, ...]) -> Iterator[list[ShardWorker]]:
    """One `manage.py shard_worker` process per tuple of shard names, each in a process group of
    its own; all started at once, then waited for until each says it is ready."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(connection.settings_dict),
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "PRIVATE_MEDIA_ROOT": str(django_settings.PRIVATE_MEDIA_ROOT),
        "VAR_DIR": str(django_settings.VAR_DIR),
        "MATCH_SHARD_BEAT_SECONDS": "1",  # a killed worker's holding expires within 3 s
    }
    workers: list[ShardWorker] = []
    with ExitStack() as stack:
        for n, names in enumerate(holdings):
            log_path = Path(django_settings.VAR_DIR) / f"shard-worker-{os.getpid()}-{n}.log"
            log = stack.enter_context(open(log_path, "wb"))
            process = subprocess.Popen(
                [
                    sys.executable,
                    "manage.py",
                    "shard_worker",
                    *names,
                    "--hostname",
                    f"shard-test-{os.getpid()}-{n}@%h",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            workers.append(ShardWorker(process, log_path))
        try:
            deadline = time.monotonic() + 90
            for worker in workers:
                while b"ready." not in worker.log.read_bytes():
                    if worker.process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"shard worker did not start: {worker.text()[-3000:]}")
                    time.sleep(0.2)
            yield workers
        finally:
            for worker in workers:
                if worker.process.poll() is None:
                    os.killpg(worker.process.pid, signal.SIGTERM)
                    try:
                        worker.process.wait(timeout=20)
                    except subprocess.TimeoutExpired:
                        worker.kill()


def whole_index_answers(dataset_id: int, field: str, codes: list[int], radius: int, tmp: Path) -> Any:
    """The unsharded answer: the whole data set's index, built in this process."""
    return DatasetIndexes(tmp, check_interval=0, field=field).get(dataset_id).search_many(codes, radius)


@pytest.fixture
def two_shards(maintainer: Any) -> dict[str, Any]:
    """A data set of 600 items with random hashes, cut in two shards at its 301st item."""
    rng = np.random.default_rng(16)
    dataset = registry_services.dataset_create(
        maintainer=maintainer.maintainer, slug="laion-ish", name="LAION-ish"
    )
    ids = add_items(dataset, random_pairs(rng, 600), "r")
    call_command("shard_add", "laion-ish", "--at", str(ids[300]), stdout=StringIO(), stderr=StringIO())
    return {"dataset": dataset, "ids": ids, "split": ids[300], "rng": rng}


# --- without workers --------------------------------------------------------------------


def test_it_says_which_ids_a_set_of_shards_leaves_out():
    def ref(number: int, first: int, end: int | None) -> ShardRef:
        return ShardRef(1, number, first, end, 1)

    assert coverage_gap([ref(0, 0, 10), ref(1, 10, None)]) is None
    assert coverage_gap([ref(1, 10, None), ref(0, 0, 10)]) is None
    assert coverage_gap([ref(0, 0, 10), ref(1, 12, None)]) == "ids 10 to 11 are in no shard"
    assert coverage_gap([ref(0, 0, 10)]) == "ids from 10 on are in no shard"
    assert coverage_gap([ref(1, 5, None)]) == "ids 0 to 4 are in no shard"


def test_it_builds_each_shard_from_its_id_range_only(two_shards):
    dataset, ids, split = two_shards["dataset"], two_shards["ids"], two_shards["split"]
    held = {s.number: s for s in IndexShard.objects.filter(dataset=dataset)}
    assert (held[0].first_pk, held[0].end_pk, held[1].first_pk, held[1].end_pk) == (0, split, split, None)
    assert (held[0].item_count, held[1].item_count) == (300, 300)
    assert {held[0].state, held[1].state} == {"ready"}
    lower = shards.held_index(shards._ref(held[0]), "phash")
    upper = shards.held_index(shards._ref(held[1]), "dhash")
    assert sorted(lower.ids().tolist()) == ids[:300]
    assert sorted(upper.ids().tolist()) == ids[300:]


def test_it_fails_a_search_of_a_sharded_data_set_without_a_redis_broker(two_shards, settings):
    settings.CELERY_BROKER_URL = "filesystem://"
    with pytest.raises(ShardUnavailable, match="searched through Redis"):
        matching.indexes("phash").search_all_many([12345], 10)


def test_an_unsharded_data_set_is_searched_in_this_process_as_before(maintainer, tmp_path, settings):
    settings.CELERY_BROKER_URL = "filesystem://"  # nothing could answer a shard's message
    rng = np.random.default_rng(3)
    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="plain", name="Plain")
    pairs = random_pairs(rng, 50)
    ids = add_items(dataset, pairs, "p")
    found = matching.indexes("phash").search_all_many([pairs[7][0]], 4)
    assert found == [[(ids[7], 0)]]
    assert found == whole_index_answers(dataset.pk, "phash", [pairs[7][0]], 4, tmp_path)


# --- two shard workers -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_shard_workers_each_find_their_matches_and_merge_to_the_whole_answer(
    two_shards, artist, tmp_path
):
    dataset, ids, rng = two_shards["dataset"], two_shards["ids"], two_shards["rng"]
    # The artist's work, and a copy of it in each shard (the upper one re-encoded: a few bits moved).
    ticket = request_services.request_create(artist=artist, basis="copyright")
    work = request_services.works_add(
        ticket=ticket,
        actor=artist.user,
        files=[SimpleUploadedFile("chelsea.png", photo_bytes("chelsea.png"))],
    ).works[0]
    assert request_services.work_hash(work_id=work.pk) == "hashed"
    work.refresh_from_db()
    lower_copy = DatasetItem.objects.get(pk=ids[5])
    lower_copy.phash, lower_copy.dhash = work.phash, work.dhash
    lower_copy.save()
    [upper_copy] = add_items(dataset, [(flip(work.phash, 3, 40), flip(work.dhash, 7))], "copy")
    assert upper_copy >= two_shards["split"]

    pairs = list(DatasetItem.objects.filter(dataset=dataset).order_by("pk").values_list("phash", "dhash"))
    queries = [flip(p, 1, 2, 3) for p, _ in pairs[::7]] + [int(c) for c in rng.integers(-(2**62), 2**62, 40)]
    with shard_workers((f"{dataset.slug}:0",), (f"{dataset.slug}:1",)) as (lower, upper):
        for field, radius in (("phash", 10), ("phash", 5), ("dhash", 8), ("phash", 24)):
            codes = queries if field == "phash" else [flip(d, 0, 5) for _, d in pairs[::5]]
            sharded = matching.indexes(field).search_all_many(codes, radius)
            assert sharded == whole_index_answers(dataset.pk, field, codes, radius, tmp_path)
            assert any(sharded)
        hits = {item for found in sharded for item, _ in found}
        assert min(hits) < two_shards["split"] <= max(hits)  # both shards answered with hits

        assert request_services.work_match(work_id=work.pk) == "done"
        assert set(Match.objects.filter(work=work).values_list("item_id", flat=True)) == {ids[5], upper_copy}
        assert "registry.tasks.shard_search" in lower.text() and "succeeded" in lower.text()
        assert "registry.tasks.shard_search" in upper.text() and "succeeded" in upper.text()


@pytest.mark.django_db(transaction=True)
def test_a_shard_worker_killed_mid_search_is_replaced_and_a_silent_shard_fails_the_search(
    two_shards, artist, settings, tmp_path
):
    dataset, rng = two_shards["dataset"], two_shards["rng"]
    settings.MATCH_SHARD_TIMEOUT_SECONDS = 10
    settings.MATCH_SHARD_ATTEMPTS = 3
    # A big batch at a wide radius: each shard scans its codes once per query, for seconds.
    codes = [int(c) for c in rng.integers(-(2**63), 2**63 - 1, 60_000, dtype=np.int64)]
    expected = whole_index_answers(dataset.pk, "phash", codes, 22, tmp_path)
    answer: dict[str, Any] = {}

    def search() -> None:
        try:
            answer["hits"] = matching.indexes("phash").search_all_many(codes, 22)
        except Exception as exc:  # reported below
            answer["error"] = exc
        finally:
            connection.close()  # this thread's own connection

    with shard_workers((f"{dataset.slug}:0",), (f"{dataset.slug}:0",), (f"{dataset.slug}:1",)) as workers:
        first, second, upper = workers
        searcher = threading.Thread(target=search)
        searcher.start()
        deadline = time.monotonic() + 30
        taker = None
        while taker is None and time.monotonic() < deadline:
            taker = next((w for w in (first, second) if "Task registry.tasks.shard_search" in w.text()), None)
            time.sleep(0.05)
        assert taker is not None, "neither worker of shard 0 took the search"
        taker.kill()  # mid-search: it received the message and is scanning
        survivor = second if taker is first else first
        searcher.join(timeout=60)
        assert not searcher.is_alive()
        assert "error" not in answer, answer.get("error")
        assert answer["hits"] == expected  # the whole answer, from the surviving worker of shard 0
        assert "succeeded" in survivor.text() and "succeeded" not in taker.text()

        # The only worker of shard 1 dies: no answer is a failure, never "no match".
        upper.kill()
        settings.MATCH_SHARD_TIMEOUT_SECONDS, settings.MATCH_SHARD_ATTEMPTS = 1, 2
        started = time.monotonic()
        with pytest.raises(ShardUnavailable) as failure:
            matching.indexes("phash").search_all_many(codes[:10], 10)
        assert time.monotonic() - started < 10
        assert f"match.dataset-{dataset.pk}.shard-1" in str(failure.value)
        assert "did not answer" in str(failure.value)

        ticket = request_services.request_create(artist=artist, basis="copyright")
        work = request_services.works_add(
            ticket=ticket,
            actor=artist.user,
            files=[SimpleUploadedFile("chelsea.png", photo_bytes("chelsea.png"))],
        ).works[0]
        assert request_services.work_hash(work_id=work.pk) == "hashed"
        with pytest.raises(ShardUnavailable):
            request_services.work_match(work_id=work.pk)
        assert Work.objects.get(pk=work.pk).hash_state == HashState.PENDING  # not "done, no copies"
        # The matching task retries (run here in this process: Celery re-runs it at once), and on
        # its last retry marks the work failed, naming the shard.
        settings.MATCH_SHARD_TASK_RETRIES = 1
        started = time.monotonic()
        assert request_tasks.work_match.apply(args=(work.pk,)).get() == "failed"
        assert time.monotonic() - started >= 2 * 2 * 1  # two runs, each waiting out 2 attempts of 1 s
        work.refresh_from_db()
        assert work.hash_state == HashState.FAILED
        assert work.hash_error.startswith("Matching failed:") and "shard-1" in work.hash_error
        assert not Match.objects.filter(work=work).exists()
