"""The admin's list of matcher shards: each shard's range, build, and who serves it, the same
account /health/ gives (registry.health.shards_served)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin

from .health import shards_served
from .models import IndexShard


class ServedChangeList(ChangeList):
    """The page's shards, each with its health read once for the whole page."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        from django.conf import settings

        shards = list(self.result_list)
        served = shards_served(shards, timezone.now(), float(settings.HEALTH_WORKER_STALE_SECONDS))
        for shard in shards:
            shard.served = served[shard.pk]


@admin.register(IndexShard)
class IndexShardAdmin(ReadOnlyAdmin):
    list_display = (
        "dataset",
        "number",
        "ids",
        "state",
        "item_count",
        "generation",
        "built_at",
        "served",
        "holders",
    )
    list_filter = ("state", "dataset")
    list_select_related = ("dataset",)
    ordering = ("dataset_id", "first_pk")

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return ServedChangeList

    @admin.display(description=_("item ids"))
    def ids(self, obj: IndexShard) -> str:
        return f"[{obj.first_pk}, {'' if obj.end_pk is None else obj.end_pk})"

    @admin.display(description=_("served"), boolean=True)
    def served(self, obj: Any) -> bool | None:
        state = getattr(obj, "served", None)
        return None if state is None else bool(state["ok"])

    @admin.display(description=_("held by"))
    def holders(self, obj: Any) -> str:
        state = getattr(obj, "served", None)
        if state is None:
            return "-"
        held = format_html_join(
            ", ",
            "{} pid {} ({})",
            (
                (
                    h["host"],
                    h["pid"],
                    _("beat %(seconds)s s ago") % {"seconds": f"{h['last_beat_seconds_ago']:g}"},
                )
                for h in state["holders"]
            ),
        )
        if "problem" in state:
            return format_html('{}<br><strong class="errornote">{}</strong>', held, state["problem"])
        return held
