"""The registry in the admin: maintainers and their keys, data sets, removals, webhooks.

Rows whose state belongs to a service (keys, removals, deliveries) are
read-only here; the few changes an operator makes (a maintainer, a new key,
revoking one, disabling or enabling an endpoint) call registry.services,
which write an OperatorAction naming the operator, shown on the
maintainer's and the endpoint's page and in their own list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.forms import ModelForm
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from core.admin import CheckedAdmin, HashedKeyAdmin, ReadOnlyAdmin, ReadOnlyInline
from core.admin import request_operator as _operator

from . import (
    admin_shards,  # noqa: F401  (the shards' list registers itself)
    services,
)
from .hashing import code_to_hex, pdq_to_hex
from .models import (
    ApiKey,
    Dataset,
    DatasetItem,
    DeliveryAttempt,
    DeliveryState,
    DomainOptOut,
    Maintainer,
    OperatorAction,
    Removal,
    RemovalSource,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class HashColumns:
    """The hashes of an item, a removal or a work, shown as the API writes them (lowercase hex)."""

    @admin.display(description=_("pHash"))
    def phash_hex(self, obj: Any) -> str | None:
        return code_to_hex(obj.phash)

    @admin.display(description=_("dHash"))
    def dhash_hex(self, obj: Any) -> str | None:
        return code_to_hex(obj.dhash)

    @admin.display(description=_("PDQ"))
    def pdq_hex(self, obj: Any) -> str | None:
        return pdq_to_hex(obj.pdq)


# --- maintainers and keys ---------------------------------------------------


def _actions_list(rows: QuerySet[OperatorAction]) -> str:
    """The audit rows, newest first, as a list on a change page."""
    rows = rows.select_related("actor")
    if not rows:
        return str(_("none"))
    return format_html(
        "<ul>{}</ul>",
        format_html_join(
            "",
            "<li>{}</li>",
            (
                (
                    _("%(when)s: %(action)s (%(type)s %(id)s) by %(operator)s%(reason)s")
                    % {
                        "when": f"{row.created_at:%Y-%m-%d %H:%M}",
                        "action": row.get_kind_display(),
                        "type": row.object_type,
                        "id": row.object_id,
                        "operator": row.actor.get_username()
                        if row.actor
                        else _("no operator (a command or the engine)"),
                        "reason": f": {reason}" if (reason := row.detail.get("reason")) else "",
                    },
                )
                for row in rows
            ),
        ),
    )


class ApiKeyInline(ReadOnlyInline):
    model = ApiKey
    fields = ("name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    ordering = ("-created_at",)


@admin.register(Maintainer)
class MaintainerAdmin(CheckedAdmin):
    list_display = ("name", "email", "dataset_count", "active_key_count", "created_at")
    search_fields = ("name", "email")
    fields = ("name", "email", "members", "operator_actions")
    readonly_fields = ("operator_actions",)
    filter_horizontal = ("members",)
    inlines = [ApiKeyInline]
    actions = ["create_key"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Maintainer]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                dataset_count=Count("datasets", distinct=True),
                active_key_count=Count(
                    "api_keys", filter=Q(api_keys__revoked_at__isnull=True), distinct=True
                ),
            )
        )

    @admin.display(description=_("data sets"), ordering="dataset_count")
    def dataset_count(self, obj: Any) -> int:
        return obj.dataset_count

    @admin.display(description=_("active keys"), ordering="active_key_count")
    def active_key_count(self, obj: Any) -> int:
        return obj.active_key_count

    @admin.display(description=_("operator actions"))
    def operator_actions(self, obj: Maintainer | None) -> str:
        """On the maintainer, its keys and its endpoints."""
        if obj is None or obj.pk is None:
            return str(_("none"))
        return _actions_list(OperatorAction.objects.filter(maintainer=obj))

    def has_create_key_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("registry.add_apikey")

    def save_model(self, request: HttpRequest, obj: Maintainer, form: ModelForm, change: bool) -> None:
        # The form has checked the fields; the services write them (and the audit row).
        members = list(form.cleaned_data.get("members", []))
        if change:
            services.maintainer_update(
                maintainer=obj,
                name=obj.name,
                email=obj.email,
                members=members,
                actor=_operator(request),
            )
            return
        # A new maintainer comes with its first key, as from `create_maintainer`.
        created, raw = services.maintainer_create(
            name=obj.name, email=obj.email, members=members, actor=_operator(request)
        )
        obj.pk, obj.created_at = created.pk, created.created_at
        obj._state.adding = False
        obj._state.db = created._state.db
        self._show_key_once(request, created, raw)

    def save_related(self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool) -> None:
        # Members were saved by the service above (no form.save_m2m()); the inlines are read-only.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @admin.action(description=_("Create a new API key (shown once)"), permissions=["create_key"])
    def create_key(self, request: HttpRequest, queryset: QuerySet[Maintainer]) -> None:
        for maintainer in queryset:
            _key, raw = services.api_key_create(maintainer=maintainer, name="admin", actor=_operator(request))
            self._show_key_once(request, maintainer, raw)

    def _show_key_once(self, request: HttpRequest, maintainer: Maintainer, raw: str) -> None:
        messages.warning(
            request,
            f"New API key for {maintainer.name}: {raw} . Copy it now: it is stored hashed and "
            "will not be shown again.",
        )


@admin.register(ApiKey)
class ApiKeyAdmin(HashedKeyAdmin):
    owner = "maintainer"

    def revoke_key(self, *, key: ApiKey, actor: User | None) -> None:
        services.api_key_revoke(key=key, actor=actor)


# --- data sets and items ----------------------------------------------------


@admin.register(Dataset)
class DatasetAdmin(ReadOnlyAdmin):
    list_display = ("slug", "name", "maintainer", "item_count", "removal_count", "created_at")
    list_filter = ("maintainer",)
    list_select_related = ("maintainer",)
    search_fields = ("slug", "name", "maintainer__name")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Dataset]:
        # Subqueries, not two joined Counts: items times removals would multiply rows.
        def count_of(model: Any) -> Any:
            rows = (
                model.objects.filter(dataset=OuterRef("pk"))
                .order_by()
                .values("dataset")
                .annotate(n=Count("pk"))
                .values("n")
            )
            return Coalesce(Subquery(rows), 0)

        return (
            super()
            .get_queryset(request)
            .annotate(item_count=count_of(DatasetItem), removal_count=count_of(Removal))
        )

    @admin.display(description=_("items"), ordering="item_count")
    def item_count(self, obj: Any) -> int:
        return obj.item_count

    @admin.display(description=_("removals"), ordering="removal_count")
    def removal_count(self, obj: Any) -> int:
        return obj.removal_count


@admin.register(DatasetItem)
class DatasetItemAdmin(HashColumns, ReadOnlyAdmin):
    list_display = ("external_id", "dataset_slug", "short_url", "phash_hex", "dhash_hex", "pdq_quality")
    list_filter = ("dataset",)
    list_select_related = ("dataset",)
    search_fields = ("external_id", "url")
    # Indexes run to millions of rows: no full count on every page.
    show_full_result_count = False
    fields = (
        "dataset",
        "external_id",
        "url",
        "phash_hex",
        "dhash_hex",
        "pdq_hex",
        "pdq_quality",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    @admin.display(description=_("data set"), ordering="dataset__slug")
    def dataset_slug(self, obj: DatasetItem) -> str:
        return obj.dataset.slug

    @admin.display(description=_("URL"))
    def short_url(self, obj: DatasetItem) -> str:
        return Truncator(obj.url).chars(36)


@admin.register(Removal)
class RemovalAdmin(HashColumns, ReadOnlyAdmin):
    # Eight narrow columns, so that the list fits beside its filters at 1280 px: the id
    # and URL shortened (whole on the removal's page, and searchable), the data set by slug, the
    # delivery's progress in one column.
    list_display = (
        "short_id",
        "dataset_slug",
        "short_source_ref",
        "filed_by",
        "short_url",
        "reason",
        "state",
        "progress",
    )
    list_display_links = ("short_id",)
    list_filter = ("state", "source", "dataset", "reason")
    list_select_related = ("dataset",)
    search_fields = ("public_id", "source_ref", "url")
    date_hierarchy = "approved_at"
    exclude = ("pdq", "url_key")
    readonly_fields = ("phash_hex", "dhash_hex")

    @admin.display(description=_("id"), ordering="public_id")
    def short_id(self, obj: Removal) -> str:
        return Truncator(obj.public_id).chars(12)

    @admin.display(description=_("data set"), ordering="dataset__slug")
    def dataset_slug(self, obj: Removal) -> str:
        return obj.dataset.slug

    @admin.display(description=_("source ref"), ordering="source_ref")
    def short_source_ref(self, obj: Removal) -> str:
        """A ticket's reference whole (RR-2026-000123); a partner's filing id (pf_ and 22) shortened."""
        return Truncator(obj.source_ref).chars(16)

    @admin.display(description=_("URL"))
    def short_url(self, obj: Removal) -> str:
        return Truncator(obj.url or "").chars(30)

    @admin.display(description=_("progress"), ordering="approved_at")
    def progress(self, obj: Removal) -> str:
        """The last step reached (approved, delivered, confirmed) and its day; the times are on the
        removal's page."""
        for label, when in (
            (_("confirmed %(day)s"), obj.acknowledged_at),
            (_("delivered %(day)s"), obj.delivered_at),
            (_("approved %(day)s"), obj.approved_at),
        ):
            if when is not None:
                return label % {"day": date_format(timezone.localtime(when), "j M")}
        return ""

    @admin.display(description=_("filed by"), ordering="source")
    def filed_by(self, obj: Removal) -> str:
        """The artist's own request, or the partner that filed for its creator (by name)."""
        return Truncator(obj.partner).chars(20) if obj.source == RemovalSource.PARTNER else str(_("artist"))


class OptOutStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, StrOrPromise]]:
        return [("active", _("active")), ("revoked", _("revoked"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[DomainOptOut]) -> QuerySet[DomainOptOut]:
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(DomainOptOut)
class DomainOptOutAdmin(ReadOnlyAdmin):
    """The domain rules approval recorded (services.domain_optouts_record): read here, never edited."""

    list_display = (
        "scope",
        "source_link",
        "reason",
        "choice",
        "state",
        "approved_at",
        "revoked_at",
        "removals_link",
    )
    list_filter = (OptOutStateFilter, "include_subdomains", "reason", "choice")
    search_fields = ("host", "source_ref")
    date_hierarchy = "approved_at"
    fields = (
        "scope",
        "host",
        "include_subdomains",
        "path_prefix",
        "source_link",
        "reason",
        "choice",
        "licence",
        "licence_url",
        "attribution",
        "approved_at",
        "revoked_at",
        "created_at",
        "removals_link",
    )
    readonly_fields = fields

    @admin.display(description=_("scope"), ordering="host_key")
    def scope(self, obj: DomainOptOut) -> str:
        return f"{'*.' if obj.include_subdomains else ''}{obj.host}{obj.path_prefix}"

    @admin.display(description=_("state"), boolean=False)
    def state(self, obj: DomainOptOut) -> str:
        return str(_("active") if obj.is_active else _("revoked"))

    @admin.display(description=_("source reference"), ordering="source_ref")
    def source_link(self, obj: DomainOptOut) -> str:
        """The ticket, found by its reference in the desk's queue (registry knows only the string)."""
        try:
            queue = reverse("admin:requests_app_removalrequest_changelist")
        except NoReverseMatch:
            return obj.source_ref
        return format_html('<a href="{}?{}">{}</a>', queue, urlencode({"q": obj.source_ref}), obj.source_ref)

    @admin.display(description=_("removals"))
    def removals_link(self, obj: DomainOptOut) -> str:
        url = reverse("admin:registry_removal_changelist")
        query = urlencode({"q": obj.source_ref})
        text = _("removals of %(reference)s") % {"reference": obj.source_ref}
        return format_html('<a href="{}?{}">{}</a>', url, query, text)


# --- webhooks ---------------------------------------------------------------


def _may_manage_webhooks(request: HttpRequest) -> bool:
    """Disabling, enabling and redelivering: superusers, or whoever may change endpoints."""
    return bool(request.user.is_active and request.user.has_perm("registry.change_webhookendpoint"))


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = (
        "public_id",
        "maintainer",
        "url",
        "enabled",
        "disabled_reason",
        "failing_since",
        "delivery_log",
        "created_at",
    )
    list_filter = ("enabled", "maintainer")
    list_select_related = ("maintainer",)
    search_fields = ("public_id", "url", "maintainer__name")
    fields = (
        "public_id",
        "maintainer",
        "url",
        "event_types",
        "enabled",
        "disabled_reason",
        "disabled_at",
        "failing_since",
        "delivery_log",
        "created_at",
        "deleted_at",
        "operator_actions",
    )
    readonly_fields = fields
    actions = ["disable", "enable"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookEndpoint]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                delivery_count=Count("deliveries"),
                failed_count=Count("deliveries", filter=Q(deliveries__state=DeliveryState.FAILED)),
            )
        )

    @admin.display(description=_("deliveries"))
    def delivery_log(self, obj: Any) -> str:
        url = reverse("admin:registry_webhookdelivery_changelist")
        return format_html(
            '<a href="{}?endpoint__id__exact={}">{}</a>, '
            '<a href="{}?endpoint__id__exact={}&amp;problem=failed">{}</a>',
            url,
            obj.pk,
            _("%(count)s deliveries") % {"count": obj.delivery_count},
            url,
            obj.pk,
            _("%(count)s failed") % {"count": obj.failed_count},
        )

    @admin.display(description=_("operator actions"))
    def operator_actions(self, obj: WebhookEndpoint) -> str:
        return _actions_list(OperatorAction.objects.filter(object_type="webhook_endpoint", object_id=obj.pk))

    def has_manage_permission(self, request: HttpRequest) -> bool:
        return _may_manage_webhooks(request)

    @admin.action(
        description=_("Disable the selected endpoints (their organisations are emailed)"),
        permissions=["manage"],
    )
    def disable(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        done = 0
        for endpoint in queryset.filter(enabled=True):
            services.webhook_endpoint_disable(
                endpoint=endpoint,
                reason=f"disabled by an operator ({request.user.get_username()})",
                actor=_operator(request),
            )
            done += 1
        messages.success(request, f"Disabled {done} endpoint(s); their pending deliveries failed.")

    @admin.action(description=_("Enable the selected endpoints"), permissions=["manage"])
    def enable(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        done = 0
        for endpoint in queryset.filter(enabled=False):
            if endpoint.deleted_at is not None:
                messages.warning(request, f"{endpoint.public_id} is deleted and stays disabled.")
                continue
            services.webhook_endpoint_enable(endpoint=endpoint, actor=_operator(request))
            done += 1
        messages.success(
            request, f"Enabled {done} endpoint(s). Failed deliveries are sent again only when redelivered."
        )


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "event_type", "maintainer", "dataset", "created_at")
    list_filter = ("event_type",)
    list_select_related = ("maintainer", "dataset")
    search_fields = ("public_id",)
    exclude = ("removals",)


class DeliveryAttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    fields = ("attempted_at", "status_code", "error", "duration_ms", "response_excerpt")
    readonly_fields = fields
    show_change_link = False


class DeliveryProblemFilter(admin.SimpleListFilter):
    title = _("problems")
    parameter_name = "problem"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, StrOrPromise]]:
        return [
            ("failed", _("Failed (no more attempts)")),
            ("retrying", _("Retrying (failed at least once)")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "failed":
            return queryset.filter(state=DeliveryState.FAILED)
        if self.value() == "retrying":
            return queryset.filter(state=DeliveryState.PENDING, attempts__gt=0)
        return queryset


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "public_id",
        "event",
        "endpoint",
        "state",
        "attempts",
        "next_attempt_at",
        "last_status",
        "short_error",
        "succeeded_at",
    )
    list_filter = (DeliveryProblemFilter, "state", ("endpoint", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("event", "endpoint")
    search_fields = ("public_id", "event__public_id", "endpoint__url")
    inlines = [DeliveryAttemptInline]
    actions = ["redeliver"]

    @admin.display(description=_("last error"))
    def short_error(self, obj: WebhookDelivery) -> str:
        return Truncator(obj.last_error).chars(80)

    def has_manage_permission(self, request: HttpRequest) -> bool:
        return _may_manage_webhooks(request)

    @admin.action(description=_("Redeliver the selected deliveries"), permissions=["manage"])
    def redeliver(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        done = 0
        skipped = 0
        for row in queryset.select_related("endpoint"):
            if not row.endpoint.enabled:
                skipped += 1
                continue
            services.delivery_redeliver(delivery=row)
            done += 1
        messages.success(request, f"Queued {done} delivery(ies) again.")
        if skipped:
            messages.warning(
                request, f"Skipped {skipped} whose endpoint is disabled: enable the endpoint first."
            )


# --- the audit trail --------------------------------------------------------


@admin.register(OperatorAction)
class OperatorActionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor", "kind", "maintainer", "object_type", "object_id", "detail")
    list_filter = ("kind", "object_type", ("actor", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("actor", "maintainer")
    search_fields = ("maintainer__name", "actor__username")
    date_hierarchy = "created_at"
