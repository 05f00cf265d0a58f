"""Which processes hold each shard of a data set's index, told by the shard workers themselves.

Every `manage.py shard_worker` process, once its Celery worker is ready, beats every
MATCH_SHARD_BEAT_SECONDS: for each shard it holds it sets a Redis key of its own
(`shard-holder:<dataset id>:<number>:<host>:<pid>`) that expires after three beats, and lists
that key in the shard's set (`shard-holders:<dataset id>:<number>`). A worker that stops cleanly
deletes its keys; one that is killed stops beating and its keys expire, so a shard whose set
names no live key has no holder. The age of a beat comes from the key's remaining time to live,
counted by Redis itself, so the clocks of the worker's and the reader's machines do not matter.

Why beside the queue heartbeat of registry.health (beat's message a minute, taken by a worker
of the shard): that one says the shard's queue is moving, but only a minute or more after a
worker died, and it names one worker of the shard, not all of them; this one names every
process holding the shard (host and pid) and notices a killed one within three beats.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings

log = logging.getLogger(__name__)

# A holder's keys outlive this many beats: one or two beats lost to a busy Redis are not a death.
_BEATS_TO_LIVE = 3
# The set of a shard's holders lives this long after its last beat (a shard removed since).
_SET_TTL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Holder:
    """One process holding a shard, as of its last beat."""

    worker: str  # the Celery worker's name, as in the queue heartbeat's hostname
    host: str
    pid: int
    last_beat_seconds_ago: float


def _set_key(dataset_id: int, number: int) -> str:
    return f"shard-holders:{dataset_id}:{number}"


def _holder_key(dataset_id: int, number: int, host: str, pid: int) -> str:
    return f"shard-holder:{dataset_id}:{number}:{host}:{pid}"


def _redis() -> Any:
    from .shards import _replies

    return _replies()


def holder_beat(*, shards: Iterable[tuple[int, int]], worker: str, host: str, pid: int, every: float) -> None:
    """One beat of one process for the shards (data set id, number) it holds."""
    ttl_ms = int(every * _BEATS_TO_LIVE * 1000)
    body = json.dumps({"worker": worker, "host": host, "pid": pid, "ttl_ms": ttl_ms})
    pipe = _redis().pipeline()
    for dataset_id, number in shards:
        key = _holder_key(dataset_id, number, host, pid)
        pipe.set(key, body, px=ttl_ms)
        pipe.sadd(_set_key(dataset_id, number), key)
        pipe.expire(_set_key(dataset_id, number), _SET_TTL_SECONDS)
    pipe.execute()


def holder_leave(*, shards: Iterable[tuple[int, int]], host: str, pid: int) -> None:
    """A process stops holding these shards (its worker shuts down cleanly)."""
    pipe = _redis().pipeline()
    for dataset_id, number in shards:
        key = _holder_key(dataset_id, number, host, pid)
        pipe.delete(key)
        pipe.srem(_set_key(dataset_id, number), key)
    pipe.execute()


def shard_holders(shards: Sequence[tuple[int, int]]) -> dict[tuple[int, int], list[Holder]]:
    """The live holders of each shard (data set id, number), by process; three round trips to
    Redis whatever the number of shards. Keys that expired are dropped from their shard's set."""
    if not shards:
        return {}
    client = _redis()
    pipe = client.pipeline()
    for dataset_id, number in shards:
        pipe.smembers(_set_key(dataset_id, number))
    members = [sorted(m.decode() if isinstance(m, bytes) else m for m in found) for found in pipe.execute()]
    pipe = client.pipeline()
    for keys in members:
        for key in keys:
            pipe.get(key)
            pipe.pttl(key)
    answers = iter(pipe.execute())
    found: dict[tuple[int, int], list[Holder]] = {}
    gone = client.pipeline()
    for shard, keys in zip(shards, members, strict=True):
        holders = found[shard] = []
        for key in keys:
            body, left_ms = next(answers), next(answers)
            if body is None or left_ms is None or left_ms < 0:
                gone.srem(_set_key(*shard), key)  # expired: the process stopped beating
                continue
            beat = json.loads(body)
            age = max(0.0, (int(beat["ttl_ms"]) - int(left_ms)) / 1000)
            holders.append(Holder(str(beat["worker"]), str(beat["host"]), int(beat["pid"]), round(age, 1)))
        holders.sort(key=lambda h: (h.host, h.pid))
    gone.execute()
    return found


def holder_as_json(holder: Holder) -> dict[str, Any]:
    return asdict(holder)


class HolderBeat:
    """The beating thread of one shard worker process (started when its Celery worker is ready,
    stopped when it shuts down)."""

    def __init__(self, shards: Sequence[tuple[int, int]], worker: str) -> None:
        self.shards = list(shards)
        self.worker = worker
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.every = float(settings.MATCH_SHARD_BEAT_SECONDS)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="shard-holder-beat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.every + 5)
        try:
            holder_leave(shards=self.shards, host=self.host, pid=self.pid)
        except Exception:  # Redis gone at shutdown: the keys expire on their own
            log.warning("shard holder keys of pid %s not deleted; they expire", self.pid, exc_info=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                holder_beat(
                    shards=self.shards, worker=self.worker, host=self.host, pid=self.pid, every=self.every
                )
            except Exception:  # Redis away for a moment: beat again next time, keep serving
                log.warning("shard holder beat failed", exc_info=True)
            self._stop.wait(self.every)
