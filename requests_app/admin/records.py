"""Read-only views of the records around requests: artists, identity proofs, works, matches and
the timeline's events (services own these rows; the admin lists and shows them)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin, ReadOnlyInline
from registry.admin import HashColumns

from .. import timeline
from ..models import ArtistProfile, IdentityProof, Match, RemovalRequest, TicketEvent, Work


class IdentityProofInline(ReadOnlyInline):
    model = IdentityProof
    fields = ("method", "target", "status", "checked_at", "verified_at", "expires_at")
    readonly_fields = fields


class ArtistRequestInline(ReadOnlyInline):
    model = RemovalRequest
    fk_name = "artist"
    fields = ("reference", "status", "basis", "submitted_at", "decided_at")
    readonly_fields = fields
    verbose_name_plural = _("requests")


@admin.register(ArtistProfile)
class ArtistProfileAdmin(ReadOnlyAdmin):
    list_display = ("display_name", "email", "verification_level", "request_count", "created_at")
    list_filter = ("verification_level",)
    list_select_related = ("user",)
    search_fields = ("display_name", "user__email")
    fields = ("user", "display_name", "verification_level", "created_at")
    inlines = [IdentityProofInline, ArtistRequestInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ArtistProfile]:
        return super().get_queryset(request).annotate(request_count=Count("requests"))

    @admin.display(description=_("email"), ordering="user__email")
    def email(self, obj: ArtistProfile) -> str:
        return obj.user.email

    @admin.display(description=_("requests"), ordering="request_count")
    def request_count(self, obj: Any) -> int:
        return obj.request_count


@admin.register(IdentityProof)
class IdentityProofAdmin(ReadOnlyAdmin):
    list_display = (
        "artist",
        "method",
        "target",
        "status",
        "checked_at",
        "verified_at",
        "expires_at",
        "document_link",
    )
    list_filter = ("method", "status")
    list_select_related = ("artist__user",)
    search_fields = ("target", "artist__user__email", "artist__display_name")
    exclude = ("document", "token")

    @admin.display(description=_("document"))
    def document_link(self, obj: IdentityProof) -> str:
        if obj.document_deleted_at:
            return gettext("deleted %(day)s") % {"day": f"{obj.document_deleted_at:%Y-%m-%d}"}
        if not obj.document:
            return "—"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            reverse("identity_document", args=[obj.pk]),
            gettext("open"),
        )


@admin.register(Work)
class WorkAdmin(HashColumns, ReadOnlyAdmin):
    list_display = ("original_name", "artist", "request", "hash_state", "format", "size", "created_at")
    list_filter = ("hash_state", "format")
    list_select_related = ("artist__user", "request")
    search_fields = ("original_name", "sha256", "request__reference", "artist__user__email")
    fields = (
        "thumbnail",
        "artist",
        "request",
        "original_name",
        "format",
        "size",
        "size_bytes",
        "sha256",
        "hash_state",
        "hash_error",
        "phash_hex",
        "dhash_hex",
        "pdq_quality",
        "embedded_signals",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description=_("image"))
    def thumbnail(self, obj: Work) -> str:
        return format_html(
            '<img src="{}" alt="" style="max-width:320px;max-height:320px">',
            reverse("work_image", args=[obj.pk]),
        )

    @admin.display(description=_("size"))
    def size(self, obj: Work) -> str:
        return f"{obj.width} x {obj.height}"


@admin.register(Match)
class MatchAdmin(ReadOnlyAdmin):
    list_display = ("work", "request_ref", "dataset", "item_url", "algorithm", "distance", "state")
    list_filter = ("state", "item__dataset")
    list_select_related = ("work__request", "item__dataset")
    search_fields = ("item__url", "work__request__reference")

    @admin.display(description=_("request"), ordering="work__request__reference")
    def request_ref(self, obj: Match) -> str:
        return str(obj.work.request or "—")

    @admin.display(description=_("data set"), ordering="item__dataset__slug")
    def dataset(self, obj: Match) -> str:
        return obj.item.dataset.slug

    @admin.display(description=_("item URL"))
    def item_url(self, obj: Match) -> str:
        return Truncator(obj.item.url).chars(80)


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "request",
        "kind",
        "is_public",
        "actor",
        "old_value",
        "new_value",
        "excerpt",
    )
    list_filter = ("kind",)
    list_select_related = ("request", "actor")
    search_fields = ("request__reference", "message")

    @admin.display(boolean=True, description=_("artist sees it"))
    def is_public(self, obj: TicketEvent) -> bool:
        return obj.is_public

    @admin.display(description=_("message"))
    def excerpt(self, obj: TicketEvent) -> str:
        return Truncator(timeline.event_text(obj)).chars(100)
