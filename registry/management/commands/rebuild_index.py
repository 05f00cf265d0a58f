"""Rebuild the saved pHash search indexes from the database.

python manage.py rebuild_index            # every data set (and drop files of deleted ones)
python manage.py rebuild_index SLUG ...   # the data sets with these slugs (any maintainer)
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.index import DatasetIndexes
from registry.models import Dataset, DatasetItem


class Command(BaseCommand):
    help = "Rebuild the saved pHash Hamming indexes (VAR_DIR/indexes) from the database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slugs", nargs="*", metavar="SLUG", help="data set slugs (default: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        slugs: list[str] = list(options["slugs"])
        datasets = Dataset.objects.select_related("maintainer").order_by("pk")
        if slugs:
            datasets = datasets.filter(slug__in=slugs)
            missing = sorted(set(slugs) - {d.slug for d in datasets})
            if missing:
                raise CommandError(f"no data set with slug {', '.join(missing)}")
        indexes = DatasetIndexes()
        if not slugs and indexes.directory.exists():
            alive = {indexes.path(pk).name for pk in Dataset.objects.values_list("pk", flat=True)}
            for orphan in indexes.directory.glob("dataset-*.faissbin"):
                if orphan.name not in alive:
                    orphan.unlink()
        for dataset in datasets:
            total = DatasetItem.objects.filter(dataset=dataset).count()
            label = f"{dataset.maintainer.name}/{dataset.slug} (#{dataset.pk})"
            started = time.monotonic()

            def progress(done: int, label: str = label, total: int = total) -> None:
                self.stderr.write(f"\r{label}: {done:,} / {total:,} items read", ending="")
                self.stderr.flush()

            index = indexes.rebuild(dataset.pk, progress)
            self.stderr.write(
                f"\r{label}: {len(index):,} codes indexed from {total:,} items in "
                f"{time.monotonic() - started:.1f} s, about {index.memory_bytes() / 1e6:.1f} MB"
            )
