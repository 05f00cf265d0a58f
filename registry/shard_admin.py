"""What the shard commands share: naming a data set or a shard on the command line, and the table."""

from __future__ import annotations

from django.core.management.base import CommandError

from .models import Dataset, IndexShard


def dataset_named(name: str) -> Dataset:
    """A data set by slug (of any maintainer) or by `#id`; a slug two maintainers use needs the id."""
    if name.startswith("#") and name[1:].isdigit():
        dataset = Dataset.objects.filter(pk=int(name[1:])).first()
        if dataset is None:
            raise CommandError(f"no data set with id {name[1:]}")
        return dataset
    found = list(Dataset.objects.filter(slug=name).order_by("pk")[:3])
    if not found:
        raise CommandError(f"no data set with slug {name!r}")
    if len(found) > 1:
        ids = ", ".join(f"#{d.pk}" for d in found)
        raise CommandError(f"slug {name!r} names several data sets ({ids}): give one as #ID")
    return found[0]


def shards_named(names: list[str]) -> list[IndexShard]:
    """`SLUG:N` (one shard) or `SLUG` (every shard of it), SLUG also `#id`."""
    chosen: list[IndexShard] = []
    for name in names:
        dataset_part, _, number = name.rpartition(":") if ":" in name else (name, "", "")
        dataset = dataset_named(dataset_part)
        shards = IndexShard.objects.filter(dataset=dataset).order_by("number")
        if number:
            if not number.isdigit():
                raise CommandError(f"{name!r}: the shard number after ':' must be a number")
            shards = shards.filter(number=int(number))
        found = list(shards)
        if not found:
            raise CommandError(
                f"{name!r}: data set {dataset.slug} (#{dataset.pk}) has "
                + (f"no shard {number}" if number else "no shards (manage.py shard_add makes them)")
            )
        chosen.extend(s for s in found if s not in chosen)
    return chosen


def shard_table(dataset: Dataset) -> str:
    lines = [f"{'shard':>5}  {'ids':<27} {'state':<9} {'items':>13}  queue"]
    for shard in IndexShard.objects.filter(dataset=dataset).order_by("first_pk"):
        ids = f"[{shard.first_pk}, {'' if shard.end_pk is None else shard.end_pk})"
        lines.append(f"{shard.number:>5}  {ids:<27} {shard.state:<9} {shard.item_count:>13,}  {shard.queue}")
    return "\n".join(lines)
