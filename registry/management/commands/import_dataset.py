"""`manage.py import_dataset SLUG FILE`: load a data set's index from CSV, NDJSON or Parquet."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry import imports, services
from registry.models import Dataset, ImportJob


class Command(BaseCommand):
    help = (
        "Import (upsert by external_id) a data set's index from a CSV (header row), NDJSON or Parquet "
        "file, with a progress bar. Bad rows are reported with their line numbers; the import goes on "
        "and the exit status is 1. "
        "Re-running after an interruption resumes (--resume) or re-imports without duplicates."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("file", type=Path)
        parser.add_argument("--maintainer", help="The maintainer's name, when several have this slug.")
        parser.add_argument(
            "--resume",
            metavar="IMPORT_ID",
            help="Resume an interrupted import (imp_...) after its committed rows.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dataset = self._dataset(options["slug"], options.get("maintainer"))
        if options.get("resume"):
            job = ImportJob.objects.filter(dataset=dataset, public_id=options["resume"]).first()
            if job is None:
                raise CommandError(f"No import {options['resume']} for {dataset.slug}.")
            try:
                services.import_requeue(job=job)
            except services.ImportBusy as exc:
                raise CommandError(str(exc)) from None
        else:
            path: Path = options["file"]
            if not path.is_file():
                raise CommandError(f"{path} is not a readable file.")
            with path.open("rb") as handle:
                try:
                    job = services.import_create(
                        dataset=dataset, upload=handle, name=path.name, enqueue=False
                    )
                except imports.ImportFileError as exc:
                    raise CommandError(str(exc)) from None
        claimed = services.import_claim(job.pk)
        if claimed is None:
            raise CommandError(f"{job.public_id} is being processed by a worker already.")
        self.stderr.write(f"Importing into {dataset.slug} as {job.public_id} ({job.format})")
        started = time.monotonic()
        job = services.import_run(claimed, progress=lambda j: self._progress(j, started))
        self.stderr.write("")
        for error in job.errors[:20]:
            self.stderr.write(f"  line {error['line']}: {error['error']}")
        if job.error_count > 20:
            self.stderr.write(
                f"  … and {job.error_count - 20:,} more bad rows (GET /api/v1/imports/{job.public_id}/)"
            )
        if job.status != "succeeded":
            raise CommandError(job.message)
        rate = job.processed / max(time.monotonic() - started, 1e-9)
        self.stdout.write(f"{job.public_id}: {job.message} ({rate:,.0f} rows/s)")
        if job.error_count:
            # The good rows are in; the exit status still says that the file was not all taken.
            rows = "row was" if job.error_count == 1 else "rows were"
            raise CommandError(
                f"{job.error_count:,} {rows} rejected (the first are listed above); "
                "fix them and import the file again: rows already in are updated, not duplicated."
            )

    def _progress(self, job: ImportJob, started: float) -> None:
        elapsed = max(time.monotonic() - started, 1e-9)
        total = job.total or 0
        share = job.processed / total if total else 0.0
        bar = "#" * int(share * 30)
        sys.stderr.write(
            f"\r[{bar:<30}] {job.processed:,}/{total:,} rows  {job.processed / elapsed:,.0f} rows/s"
            f"  {job.error_count:,} rejected"
        )
        sys.stderr.flush()

    def _dataset(self, slug: str, maintainer: str | None) -> Dataset:
        datasets = Dataset.objects.filter(slug=slug)
        if maintainer:
            datasets = datasets.filter(maintainer__name=maintainer)
        found = list(datasets[:2])
        if not found:
            raise CommandError(
                f"No data set with the slug {slug!r}" + (f" for {maintainer!r}." if maintainer else ".")
            )
        if len(found) > 1:
            raise CommandError(f"Several maintainers have a data set {slug!r}; name one with --maintainer.")
        return found[0]
