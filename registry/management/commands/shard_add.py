"""Add a shard to a data set's index (the first call makes the data set sharded).

python manage.py shard_add SLUG              # a new shard for the items added from now on
python manage.py shard_add SLUG --at 5000000 --at 10000000   # split at these item ids

Each split point cuts the shard that holds it in two: the lower part keeps its number, the
upper part is a new shard. The shards touched are rebuilt from the database at once (with
progress; --no-build leaves that to their workers, which build on first use). Searches of the
data set then go to every shard's queue: start a worker for each new one
(`manage.py shard_worker SLUG:N`), since a shard nobody answers for fails the search.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Max

from registry.models import DatasetItem, IndexShard, ShardState
from registry.shard_admin import dataset_named, shard_table
from registry.shards import shard_rebuild


class Command(BaseCommand):
    help = "Add a shard to a data set's Hamming index, splitting at item ids, and build it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dataset", metavar="SLUG", help="data set slug, or #ID")
        parser.add_argument(
            "--at",
            type=int,
            action="append",
            default=[],
            metavar="ID",
            help="split at this item id (repeatable; default: above the highest id today)",
        )
        parser.add_argument("--no-build", action="store_true", help="do not build the shards touched")

    def handle(self, *args: Any, **options: Any) -> None:
        dataset = dataset_named(options["dataset"])
        points: list[int] = sorted(set(options["at"]))
        if any(p <= 0 for p in points):
            raise CommandError("--at takes item ids above 0")
        with transaction.atomic():
            # Locked: two shard_add runs on one data set must not both split the same range.
            shards = list(IndexShard.objects.select_for_update().filter(dataset=dataset).order_by("first_pk"))
            if not points:
                top = DatasetItem.objects.filter(dataset=dataset).aggregate(top=Max("pk"))["top"] or 0
                points = [top + 1]
            if not shards:
                shards = [IndexShard.objects.create(dataset=dataset, number=0, first_pk=0, end_pk=None)]
            touched = {shards[0].pk} if len(shards) == 1 and not shards[0].built_at else set()
            next_number = max(s.number for s in shards) + 1
            for point in points:
                holder = next(
                    s for s in shards if s.first_pk <= point and (s.end_pk is None or point < s.end_pk)
                )
                if point == holder.first_pk:
                    raise CommandError(f"id {point} already starts shard {holder.number}")
                upper = IndexShard.objects.create(
                    dataset=dataset, number=next_number, first_pk=point, end_pk=holder.end_pk
                )
                next_number += 1
                holder.end_pk = point
                holder.generation += 1
                holder.state = ShardState.BUILDING
                holder.save(update_fields=["end_pk", "generation", "state", "updated_at"])
                shards.append(upper)
                shards.sort(key=lambda s: s.first_pk)
                touched |= {holder.pk, upper.pk}
                self.stdout.write(f"shard {upper.number}: ids from {point} ({upper.queue})")
        if not options["no_build"]:
            for shard in IndexShard.objects.filter(pk__in=touched).order_by("first_pk"):
                self._build(shard)
        self.stdout.write(shard_table(dataset))
        self.stdout.write(
            f"Start a worker for every shard: manage.py shard_worker {dataset.slug}:N"
            f" (or {dataset.slug} for all of them)"
        )

    def _build(self, shard: IndexShard) -> None:
        total = DatasetItem.objects.filter(dataset_id=shard.dataset_id, pk__gte=shard.first_pk)
        if shard.end_pk is not None:
            total = total.filter(pk__lt=shard.end_pk)
        count = total.count()

        def progress(done: int) -> None:
            self.stderr.write(f"\rshard {shard.number}: {done:,} / {count:,} items read", ending="")
            self.stderr.flush()

        codes = shard_rebuild(shard, progress=progress)
        self.stderr.write(
            f"\rshard {shard.number}: {codes['phash']:,} pHash and {codes['dhash']:,} dHash codes"
        )
