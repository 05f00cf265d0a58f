"""The shards of a data set's Hamming index and the queues of the matcher workers holding them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ShardState(models.TextChoices):
    BUILDING = "building", _("building")
    READY = "ready", _("ready")


class IndexShard(models.Model):
    """One shard of a data set's Hamming index: the items whose id lies in [first_pk, end_pk)
    (end_pk null: every id from first_pk on, where new items land). Matcher workers started for
    the shard (`manage.py shard_worker`) hold it and consume its own queue; a data set with no
    shard rows is searched whole in every matcher process, as before (registry.shards)."""

    dataset = models.ForeignKey(
        "registry.Dataset", on_delete=models.CASCADE, related_name="shards", verbose_name=_("data set")
    )
    number = models.PositiveIntegerField(_("number"))
    first_pk = models.BigIntegerField(_("first item id"))
    end_pk = models.BigIntegerField(_("end item id"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=ShardState.choices, default=ShardState.BUILDING
    )
    item_count = models.BigIntegerField(_("items"), default=0)
    # Bumped by every change of range and every rebuild: workers holding an older generation
    # load the shard again (from its file, else from the database).
    generation = models.PositiveIntegerField(_("generation"), default=1)
    built_at = models.DateTimeField(_("built at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("index shard")
        verbose_name_plural = _("index shards")
        constraints = [
            models.UniqueConstraint(fields=["dataset", "number"], name="index_shard_unique_number"),
            models.UniqueConstraint(fields=["dataset", "first_pk"], name="index_shard_unique_start"),
        ]
        ordering = ["dataset_id", "first_pk"]

    def __str__(self) -> str:
        end = "" if self.end_pk is None else str(self.end_pk)
        return f"data set #{self.dataset_id} shard {self.number} [{self.first_pk}, {end})"

    @property
    def queue(self) -> str:
        return shard_queue(self.dataset_id, self.number)


def shard_queue(dataset_id: int, number: int) -> str:
    """The Celery queue of one shard's matcher workers."""
    return f"match.dataset-{dataset_id}.shard-{number}"
