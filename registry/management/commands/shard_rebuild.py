"""Rebuild shards of a data set's index from the database (their id range, in id order).

python manage.py shard_rebuild SLUG:N ...   # these shards
python manage.py shard_rebuild SLUG         # every shard of the data set

The new files are saved under a new generation; each shard's workers load them on their next
search (and meanwhile answer from what they hold).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from registry.models import DatasetItem
from registry.shard_admin import shard_table, shards_named
from registry.shards import shard_rebuild


class Command(BaseCommand):
    help = "Rebuild shards of a data set's Hamming index from the database, with progress."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "shards", nargs="+", metavar="SLUG[:N]", help="a shard, or every shard of a data set"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        shards = shards_named(list(options["shards"]))
        for shard in shards:
            items = DatasetItem.objects.filter(dataset_id=shard.dataset_id, pk__gte=shard.first_pk)
            if shard.end_pk is not None:
                items = items.filter(pk__lt=shard.end_pk)
            total = items.count()
            started = time.monotonic()

            def progress(done: int, number: int = shard.number, total: int = total) -> None:
                self.stderr.write(f"\rshard {number}: {done:,} / {total:,} items read", ending="")
                self.stderr.flush()

            codes = shard_rebuild(shard, progress=progress)
            self.stderr.write(
                f"\rshard {shard.number}: {codes['phash']:,} pHash and {codes['dhash']:,} dHash codes "
                f"from {total:,} items in {time.monotonic() - started:.1f} s"
            )
        for dataset in {s.dataset for s in shards}:
            self.stdout.write(shard_table(dataset))
