"""Run a matcher worker that holds some shards of data sets' indexes and answers their searches.

python manage.py shard_worker SLUG:0 SLUG:1      # these shards
python manage.py shard_worker SLUG               # every shard of the data set
MATCH_SHARDS=SLUG:0,SLUG:1 python manage.py shard_worker

The worker loads (or builds from the database) each shard's pHash and dHash index before it
takes a message, then consumes only those shards' queues (`match.dataset-<id>.shard-<n>`).
Run two or more per shard, on different machines, so a search outlives a worker. While it
runs, the worker beats every MATCH_SHARD_BEAT_SECONDS for each shard it holds (its host and pid:
registry/shard_holders.py), which /health/ and the admin's shard list read.
"""

from __future__ import annotations

import os
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.shard_admin import shards_named
from registry.shards import ShardRef, held_index


class Command(BaseCommand):
    help = "Start a Celery worker holding these shards of data sets' Hamming indexes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "shards", nargs="*", metavar="SLUG[:N]", help="default: the MATCH_SHARDS variable"
        )
        parser.add_argument("--concurrency", type=int, default=1, help="pool processes (share the index)")
        parser.add_argument("--hostname", default="", help="the worker's name (default: shards@host)")
        parser.add_argument("--loglevel", default="INFO")

    def handle(self, *args: Any, **options: Any) -> None:
        names = list(options["shards"]) or [
            n.strip() for n in os.environ.get("MATCH_SHARDS", "").split(",") if n.strip()
        ]
        if not names:
            raise CommandError("name the shards to hold (SLUG:N ...), or set MATCH_SHARDS")
        if options["concurrency"] < 1:
            raise CommandError("--concurrency must be 1 or more")
        shards = shards_named(names)
        for shard in shards:
            ref = ShardRef(shard.dataset_id, shard.number, shard.first_pk, shard.end_pk, shard.generation)
            started = time.monotonic()
            sizes = [len(held_index(ref, field)) for field in ("phash", "dhash")]
            self.stdout.write(
                f"{shard.queue}: {sizes[0]:,} pHash and {sizes[1]:,} dHash codes ready in "
                f"{time.monotonic() - started:.1f} s",
            )
        self.stdout.flush()
        from django.db import connections

        connections.close_all()  # the pool's processes open their own
        from celery import current_app as app  # the project's, set up with Django

        queues = ",".join(s.queue for s in shards)
        hostname = options["hostname"] or f"shards-{os.getpid()}@%h"
        self._beat_when_ready([(s.dataset_id, s.number) for s in shards])
        app.worker_main(
            [
                "worker",
                "-Q",
                queues,
                "--concurrency",
                str(options["concurrency"]),
                "--pool",
                "prefork",
                "--loglevel",
                options["loglevel"],
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                hostname,
            ]
        )

    def _beat_when_ready(self, shards: list[tuple[int, int]]) -> None:
        """Say which shards this process holds (/health/, the admin's shard list) from the moment
        its worker consumes their queues until it shuts down."""
        from celery.signals import worker_ready, worker_shutdown

        from registry.shard_holders import HolderBeat

        beat: list[HolderBeat] = []

        def ready(sender: Any = None, **kwargs: Any) -> None:
            beat.append(HolderBeat(shards, worker=str(getattr(sender, "hostname", "") or "")))
            beat[0].start()

        def shutdown(**kwargs: Any) -> None:
            if beat:
                beat[0].stop()

        worker_ready.connect(ready, weak=False)
        worker_shutdown.connect(shutdown, weak=False)
