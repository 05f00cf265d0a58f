"""Matcher shards: a data set's Hamming index cut by item id range, each range held by its own
matcher workers on its own Celery queue.

Why ranges of item ids (and not a hash of the id): rebuilding one shard from PostgreSQL is then
a range scan of the primary key (`id >= first_pk AND id < end_pk`, in id order, as the whole
index is built today), and new items, whose ids only grow, all land in the last shard, whose
range is open (`end_pk` null). Adding a shard closes that range at a split point and opens a new
one above it, so no other shard moves. A hash would give even sizes without planning, but every
rebuild would read the whole data set and every new shard would take codes from all the others.
The price of ranges is that sizes are whatever the operator chose: `shard_add` splits where it is
told (by default above the highest id, so the new shard takes what arrives from now on).

A data set with IndexShard rows is searched through its shards; one without any is searched whole
in the calling process, exactly as before (registry.index.DatasetIndexes).

A search (`search`) sends one `registry.tasks.shard_search` message per shard to the shard's
queue (`match.dataset-<id>.shard-<n>`) and waits for every answer on a Redis list of its own.
Each shard's index is exact, so the merged answer (every shard's hits, one per item, sorted by
distance then id) is the answer of the whole index. A shard that does not answer within
MATCH_SHARD_TIMEOUT_SECONDS is asked again (the message goes back to the shard's queue, where
any worker of the shard takes it), up to MATCH_SHARD_ATTEMPTS times; a worker killed while it
searches loses nothing either, since the message is acknowledged late and rejected back to the
queue when its process dies (CELERY_TASK_REJECT_ON_WORKER_LOST). If a shard still has not
answered, `ShardUnavailable` is raised: a partial answer is never returned, so no work is
recorded as matching nothing because a shard was down (requests_app's work_match retries, then
marks the work failed with the shard named).
"""

from __future__ import annotations

import json
import math
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from .index import DatasetIndexes, HammingIndex, Progress

# How long a reply list lives in Redis after its last answer (a late answer nobody waits for).
_REPLY_TTL_SECONDS = 600
# Longest single wait on the reply list (redis-py's socket timeout is 5 s by default).
_WAIT_SLICE_SECONDS = 2


class ShardUnavailable(RuntimeError):
    """A shard of a data set did not answer: the search has no complete answer."""


@dataclass(frozen=True)
class ShardRef:
    dataset_id: int
    number: int
    first_pk: int
    end_pk: int | None
    generation: int

    @property
    def queue(self) -> str:
        from .models import shard_queue

        return shard_queue(self.dataset_id, self.number)

    def holds(self, pk: int) -> bool:
        return pk >= self.first_pk and (self.end_pk is None or pk < self.end_pk)


def _ref(shard: Any) -> ShardRef:
    return ShardRef(shard.dataset_id, shard.number, shard.first_pk, shard.end_pk, shard.generation)


def sharded_datasets() -> dict[int, list[ShardRef]]:
    """Every sharded data set's shards, by first id (one query)."""
    from .models import IndexShard

    found: dict[int, list[ShardRef]] = {}
    for shard in IndexShard.objects.order_by("dataset_id", "first_pk").only(
        "dataset_id", "number", "first_pk", "end_pk", "generation"
    ):
        found.setdefault(shard.dataset_id, []).append(_ref(shard))
    return found


def coverage_gap(shards: Sequence[ShardRef]) -> str | None:
    """What ids the shards leave out, or None when they cover every id from 0 on (a search of
    shards that miss ids would be partial)."""
    expected = 0
    for shard in sorted(shards, key=lambda s: s.first_pk):
        if shard.first_pk != expected:
            return f"ids {expected} to {shard.first_pk - 1} are in no shard"
        if shard.end_pk is None:
            return None
        expected = shard.end_pk
    return f"ids from {expected} on are in no shard"


# --- the worker's side: the shards this process holds ------------------------------------


class ShardIndexes(DatasetIndexes):
    """DatasetIndexes over one shard's id range of one data set, saved in a file of its own."""

    def __init__(self, shard: ShardRef, *, field: str = "phash", directory: Path | None = None) -> None:
        super().__init__(directory, check_interval=settings.MATCH_INDEX_CHECK_SECONDS, field=field)
        self.shard = shard

    def path(self, dataset_id: int) -> Path:
        suffix = "" if self.field == "phash" else f"-{self.field}"
        return self.directory / f"dataset-{dataset_id}-shard-{self.shard.number}{suffix}.faissbin"

    def _items(self, dataset_id: int) -> Any:
        items = super()._items(dataset_id).filter(pk__gte=self.shard.first_pk)
        return items if self.shard.end_pk is None else items.filter(pk__lt=self.shard.end_pk)

    def _fits(self, index: HammingIndex) -> bool:
        meta = index.meta
        return (
            meta.get("dataset_id") == self.shard.dataset_id
            and meta.get("shard") == self.shard.number
            and meta.get("generation") == self.shard.generation
            and meta.get("first_pk") == self.shard.first_pk
            and meta.get("end_pk") == self.shard.end_pk
        )

    def _load_or_build(self, dataset_id: int) -> HammingIndex:
        path = self.path(dataset_id)
        if path.exists():
            try:
                index = HammingIndex.load(path)
                if self._fits(index):
                    return index
            except (OSError, ValueError, RuntimeError):
                pass  # unreadable, or of another range or generation: rebuild below
        index = self._build(dataset_id)
        index.save(path)
        return index

    def _build(self, dataset_id: int, progress: Progress | None = None) -> HammingIndex:
        index = super()._build(dataset_id, progress)
        index.meta.update(
            shard=self.shard.number,
            generation=self.shard.generation,
            first_pk=self.shard.first_pk,
            end_pk=self.shard.end_pk,
        )
        return index


_held_lock = threading.Lock()
_held: dict[tuple[int, int, str], ShardIndexes] = {}


def held_index(shard: ShardRef, field: str) -> HammingIndex:
    """This process's index of one shard (loaded or built on first use, again after the shard's
    range or generation changed), brought up to date like any data set index."""
    key = (shard.dataset_id, shard.number, field)
    with _held_lock:
        cache = _held.get(key)
        if cache is None or cache.shard != shard:
            cache = _held[key] = ShardIndexes(shard, field=field)
    return cache.get(shard.dataset_id)


def shard_answer(
    *, dataset_id: int, number: int, field: str, codes: Sequence[int], radius: int
) -> list[list[tuple[int, int]]]:
    """One shard's hits for each code (what `registry.tasks.shard_search` runs)."""
    from .models import IndexShard

    shard = IndexShard.objects.filter(dataset_id=dataset_id, number=number).first()
    if shard is None:
        raise ShardUnavailable(f"data set #{dataset_id} has no shard {number} (removed since it was asked)")
    return held_index(_ref(shard), field).search_many(list(codes), radius)


def shard_rebuild(shard: Any, *, progress: Progress | None = None) -> dict[str, int]:
    """Build one shard's indexes (pHash and dHash) from PostgreSQL by its id range and save them,
    under a new generation: its workers load the new files on their next search. Returns the
    codes indexed per field."""
    from django.utils import timezone

    from .models import IndexShard, ShardState

    IndexShard.objects.filter(pk=shard.pk).update(state=ShardState.BUILDING)
    shard.refresh_from_db()
    ref = ShardRef(shard.dataset_id, shard.number, shard.first_pk, shard.end_pk, shard.generation + 1)
    counts = {}
    for field in ("phash", "dhash"):
        cache = ShardIndexes(ref, field=field)
        index = cache.rebuild(shard.dataset_id, progress if field == "phash" else None)
        counts[field] = len(index)
    items = ShardIndexes(ref)._items(shard.dataset_id).count()
    IndexShard.objects.filter(pk=shard.pk).update(
        state=ShardState.READY, generation=ref.generation, item_count=items, built_at=timezone.now()
    )
    return counts


# --- the searching side --------------------------------------------------------------------

_redis_lock = threading.Lock()
_redis: Any = None


def _replies() -> Any:
    global _redis
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        raise ShardUnavailable(
            f"sharded data sets are searched through Redis; CELERY_BROKER_URL is {url.split(':')[0]}://"
        )
    with _redis_lock:
        if _redis is None:
            import redis

            _redis = redis.Redis.from_url(url)
        return _redis


def reply(reply_to: str, number: int, *, hits: list[list[tuple[int, int]]] | None, error: str = "") -> None:
    """A shard's answer (or why it has none) onto the searcher's reply list."""
    client = _replies()
    body = json.dumps({"shard": number, "hits": hits, "error": error})
    pipe = client.pipeline()
    pipe.rpush(reply_to, body)
    pipe.expire(reply_to, _REPLY_TTL_SECONDS)
    pipe.execute()


def search(
    field: str, shards: Sequence[ShardRef], codes: Sequence[int], radius: int
) -> list[list[tuple[int, int]]]:
    """Every (item id, distance) within `radius` of each code, over all the shards of one data
    set: exactly what the whole data set's index answers. Raises ShardUnavailable unless every
    shard answered."""
    from celery import current_app

    if not codes:
        return []
    dataset_id = shards[0].dataset_id
    gap = coverage_gap(shards)
    if gap:
        raise ShardUnavailable(f"data set #{dataset_id}'s shards are incomplete: {gap}")
    client = _replies()
    reply_to = f"shard-reply:{uuid.uuid4().hex}"
    timeout = float(settings.MATCH_SHARD_TIMEOUT_SECONDS)
    attempts = int(settings.MATCH_SHARD_ATTEMPTS)
    by_number = {s.number: s for s in shards}
    answers: dict[int, list[list[list[int]]]] = {}
    errors: dict[int, str] = {}
    plain_codes = [int(c) for c in codes]
    try:
        for attempt in range(1, attempts + 1):
            asked = set(by_number) - set(answers)
            for number in sorted(asked):
                current_app.send_task(
                    "registry.tasks.shard_search",
                    args=(dataset_id, number, field, plain_codes, int(radius), reply_to),
                    queue=by_number[number].queue,
                    expires=timeout,  # an answer nobody waits for any more is not worth computing
                )
            deadline = time.monotonic() + timeout
            while asked and (left := deadline - time.monotonic()) > 0:
                # In slices: the client's socket gives up on a reply after a few seconds.
                got = client.blpop([reply_to], timeout=min(_WAIT_SLICE_SECONDS, max(1, math.ceil(left))))
                if got is None:
                    continue
                body = json.loads(got[1])
                number = int(body["shard"])
                if number in answers:
                    continue  # a late answer to an earlier attempt
                if body.get("error"):
                    errors[number] = str(body["error"])
                else:
                    answers[number] = body["hits"]
                asked.discard(number)
            if len(answers) == len(by_number):
                break
            for number in asked:
                errors[number] = f"no answer within {timeout:g} s (attempt {attempt} of {attempts})"
        else:
            missing = sorted(set(by_number) - set(answers))
            raise ShardUnavailable(
                f"data set #{dataset_id}: shard{'s' if len(missing) > 1 else ''} "
                + ", ".join(f"{n} ({by_number[n].queue}: {errors.get(n, 'no answer')})" for n in missing)
                + " did not answer; start its workers with `manage.py shard_worker`"
            )
    finally:
        client.delete(reply_to)
    merged: list[list[tuple[int, int]]] = []
    for q in range(len(plain_codes)):
        best: dict[int, int] = {}
        for number in sorted(answers):
            for item_id, distance in answers[number][q]:
                if by_number[number].holds(item_id) and best.get(item_id, 65) > distance:
                    best[item_id] = distance
        merged.append(sorted(best.items(), key=lambda hit: (hit[1], hit[0])))
    return merged
