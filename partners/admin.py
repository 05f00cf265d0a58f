"""Partners in the admin: an operator sets a partner up after its agreement, adds and verifies its
domains, gives it keys (shown once), sets its filing policy, suspends or reinstates it.

Every change calls partners.services, which write a PartnerAction naming the operator (shown on
the partner's page and in its own list). Filings and their rows are read-only here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import formats
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.admin import CheckedAdmin, HashedKeyAdmin, ReadOnlyAdmin, ReadOnlyInline
from core.admin import request_operator as _operator
from core.text import text_problem

from . import selectors, services
from .models import (
    CreatorClaim,
    Filing,
    FilingPolicy,
    FilingRow,
    FilingSource,
    FilingState,
    Partner,
    PartnerAction,
    PartnerDomain,
    PartnerKey,
)

# What an audit row's object_type names (services.audit writes these words), as the trail reads it.
_OBJECT_NAMES = {
    "partner": _("partner"),
    "domain": _("domain"),
    "key": _("key"),
    "policy": _("policy"),
    "filing": _("filing"),
    "claim": _("claim"),
}


def _actions_list(rows: QuerySet[PartnerAction]) -> str:
    """The partner's audit trail, newest first, in the operator's language (the kinds' labels)."""
    if not rows.exists():
        return gettext("none")
    nobody = gettext("no operator (a command or the policy)")
    return format_html_join(
        "\n",
        "<div>{} · {} {} {} · {}</div>",
        (
            (
                f"{row.created_at:%Y-%m-%d %H:%M}",
                row.get_kind_display(),
                _OBJECT_NAMES.get(row.object_type, row.object_type),
                row.object_id,
                row.actor.get_username() if row.actor else nobody,
            )
            for row in rows.select_related("actor")[:50]
        ),
    )


def number(value: int) -> str:
    """A count in the operator's language ("12,345", "12 345")."""
    return formats.number_format(value, force_grouping=True)


def _reason_or_prompt(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    action: str,
    question: str,
    button: str,
) -> str | TemplateResponse:
    """The reason the operator gave on the confirmation page, or that page (asked again when empty).

    `question` and `button` are in the operator's language (gettext), `action` the action's name."""
    reason = request.POST.get("reason", "").strip() if "apply" in request.POST else ""
    if reason and not text_problem(reason):
        return reason
    if "apply" in request.POST:
        messages.error(
            request, gettext("Give a reason (plain text): it is kept in the partner's audit trail.")
        )
    context = {
        **model_admin.admin_site.each_context(request),
        "title": question,
        "question": question,
        "objects": list(queryset),
        "action": action,
        "button": button,
        "opts": model_admin.model._meta,
    }
    return TemplateResponse(request, "admin/partners/status_reason.html", context)


def _told(events: int) -> str:
    """The sentence after a revocation's: how the maintainers were told (its own plural)."""
    return ngettext(
        "Maintainers told in %(count)s removal.revoked event.",
        "Maintainers told in %(count)s removal.revoked events.",
        events,
    ) % {"count": number(events)}


class PartnerDomainInline(ReadOnlyInline):
    model = PartnerDomain
    fields = ("host", "include_subdomains", "verified_at", "verified_by")
    readonly_fields = fields


class PartnerKeyInline(ReadOnlyInline):
    model = PartnerKey
    fields = ("name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    ordering = ("-created_at",)


@admin.register(Partner)
class PartnerAdmin(CheckedAdmin):
    list_display = ("name", "slug", "status", "agreement_ref", "agreement_date", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "slug", "contact_email", "agreement_ref")
    fields = (
        *services.AGREEMENT_FIELDS,
        "status",
        "status_reason",
        "status_changed_at",
        "status_changed_by",
        "disputes",
        "audit_trail",
    )
    readonly_fields = (
        "status",
        "status_reason",
        "status_changed_at",
        "status_changed_by",
        "disputes",
        "audit_trail",
    )
    inlines = [PartnerDomainInline, PartnerKeyInline]
    actions = ["create_key", "suspend", "suspend_and_revoke", "reinstate"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # filings and removals name it: suspend it instead

    @admin.display(description=_("disputes"))
    def disputes(self, obj: Partner | None) -> str:
        """The disputes about its filings' removals: partners answer them through the API only,
        so this is where an operator sees what is open and whether the partner answered."""
        if obj is None or obj.pk is None:
            return gettext("none")
        rows = selectors.disputes_of(obj).order_by("-opened_at", "-pk")[:50]
        if not rows:
            return gettext("none")
        # One sentence to translate for the line's words (named fields: format_html escapes each).
        line = gettext(
            "{dispute} · {state} · removal {removal} of filing {filing} · opened {opened} · "
            "answer due {due} · {answered}"
        )
        return format_html_join(
            "\n",
            "<div>{}</div>",
            (
                (
                    format_html(
                        line,
                        dispute=format_html(
                            '<a href="{}">{}</a>',
                            reverse("admin:registry_dispute_change", args=[d.pk]),
                            d.public_id,
                        ),
                        state=d.get_state_display(),
                        removal=d.removal.public_id,
                        filing=d.source_ref,
                        opened=f"{d.opened_at:%Y-%m-%d %H:%M}" if d.opened_at else "-",
                        due=f"{d.response_due_at:%Y-%m-%d %H:%M}" if d.response_due_at else "-",
                        answered=gettext("answered") if d.answered_at else gettext("not answered"),
                    ),
                )
                for d in rows
            ),
        )

    @admin.display(description=_("audit trail"))
    def audit_trail(self, obj: Partner | None) -> str:
        if obj is None or obj.pk is None:
            return gettext("none")
        return _actions_list(PartnerAction.objects.filter(partner=obj))

    def save_model(self, request: HttpRequest, obj: Partner, form: ModelForm, change: bool) -> None:
        # The form has checked the fields; the services write them (and the audit row).
        values = {field: form.cleaned_data[field] for field in services.AGREEMENT_FIELDS}
        if change:
            services.partner_update(partner=obj, actor=_operator(request), **values)
            return
        created = services.partner_create(actor=_operator(request), **values)
        obj.pk, obj.created_at = created.pk, created.created_at
        obj._state.adding, obj._state.db = False, created._state.db

    def save_related(self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool) -> None:
        for formset in formsets:  # read-only inlines: nothing to save
            self.save_formset(request, form, formset, change=change)

    def has_create_key_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("partners.add_partnerkey")

    def has_status_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("partners.change_partner")

    @admin.action(description=_("Create a new partner API key (shown once)"), permissions=["create_key"])
    def create_key(self, request: HttpRequest, queryset: QuerySet[Partner]) -> None:
        for partner in queryset:
            _key, raw = services.partner_key_create(partner=partner, name="admin", actor=_operator(request))
            messages.warning(
                request,
                gettext(
                    "New partner key for %(partner)s: %(key)s . Copy it now: it is stored hashed and "
                    "will not be shown again."
                )
                % {"partner": partner.name, "key": raw},
            )

    @admin.action(
        description=_("Suspend the selected partners (no filing, no approval)"), permissions=["status"]
    )
    def suspend(self, request: HttpRequest, queryset: QuerySet[Partner]) -> TemplateResponse | None:
        reason = _reason_or_prompt(
            self,
            request,
            queryset,
            action="suspend",
            question=gettext("Suspend these partners? Why?"),
            button=gettext("Suspend"),
        )
        if isinstance(reason, TemplateResponse):
            return reason
        for partner in queryset:
            services.partner_suspend(partner=partner, reason=reason, actor=_operator(request))
        count = queryset.count()
        messages.success(
            request,
            ngettext(
                "Suspended %(count)s partner: its keys file nothing now.",
                "Suspended %(count)s partners: their keys file nothing now.",
                count,
            )
            % {"count": number(count)},
        )
        return None

    @admin.action(
        description=_("Suspend the selected partners and revoke all their filings' removals"),
        permissions=["status"],
    )
    def suspend_and_revoke(
        self, request: HttpRequest, queryset: QuerySet[Partner]
    ) -> TemplateResponse | None:
        reason = _reason_or_prompt(
            self,
            request,
            queryset,
            action="suspend_and_revoke",
            question=gettext(
                "Suspend these partners and revoke the removals of every filing they made? Why?"
            ),
            button=gettext("Suspend and revoke"),
        )
        if isinstance(reason, TemplateResponse):
            return reason
        for partner in queryset:
            done = services.partner_suspend_and_revoke(
                partner=partner, reason=reason, actor=_operator(request)
            )
            # Whole sentences, one per count, so that each takes its own plural.
            suspended = ngettext(
                "%(partner)s: suspended; %(count)s filing revoked.",
                "%(partner)s: suspended; %(count)s filings revoked.",
                done.filings,
            ) % {"partner": partner.name, "count": number(done.filings)}
            revoked = ngettext("%(count)s removal revoked.", "%(count)s removals revoked.", done.removals) % {
                "count": number(done.removals)
            }
            messages.success(request, f"{suspended} {revoked} {_told(done.events)}")
        return None

    @admin.action(description=_("Reinstate the selected partners"), permissions=["status"])
    def reinstate(self, request: HttpRequest, queryset: QuerySet[Partner]) -> TemplateResponse | None:
        reason = _reason_or_prompt(
            self,
            request,
            queryset,
            action="reinstate",
            question=gettext("Reinstate these partners? Why?"),
            button=gettext("Reinstate"),
        )
        if isinstance(reason, TemplateResponse):
            return reason
        for partner in queryset:
            services.partner_reinstate(partner=partner, reason=reason, actor=_operator(request))
        count = queryset.count()
        messages.success(
            request,
            ngettext("Reinstated %(count)s partner.", "Reinstated %(count)s partners.", count)
            % {"count": number(count)},
        )
        return None


class PartnerDomainForm(forms.ModelForm):  # type: ignore[type-arg]
    host = forms.CharField(
        label=_("Host"),
        max_length=300,
        help_text=_("art.example, or *.art.example with its subdomains."),
    )

    class Meta:
        model = PartnerDomain
        fields = ("partner", "host", "include_subdomains")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        host, partner = data.get("host", ""), data.get("partner")
        if host and (problem := text_problem(host)):
            raise forms.ValidationError(
                gettext("This host is not valid text (%(problem)s).") % {"problem": problem}
            )
        if host and partner is not None:
            try:
                data["host"], data["include_subdomains"] = services.partner_domain_check(
                    partner=partner, host=host, include_subdomains=bool(data.get("include_subdomains"))
                )
            except services.PartnerError as exc:
                raise forms.ValidationError(str(exc)) from None
        return data


@admin.register(PartnerDomain)
class PartnerDomainAdmin(CheckedAdmin):
    form = PartnerDomainForm
    list_display = ("host", "include_subdomains", "partner", "verified_at", "verified_by")
    list_filter = (("verified_at", admin.EmptyFieldListFilter), "partner")
    list_select_related = ("partner", "verified_by")
    search_fields = ("host", "partner__name")
    actions = ["verify", "remove"]

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # removal goes through the service (audited)
        return actions

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: PartnerDomain, form: ModelForm, change: bool) -> None:
        created = services.partner_domain_add(
            partner=obj.partner,
            host=obj.host,
            include_subdomains=obj.include_subdomains,
            actor=_operator(request),
        )
        obj.pk = created.pk
        obj._state.adding, obj._state.db = False, created._state.db

    def has_manage_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("partners.change_partnerdomain")

    @admin.action(description=_("Mark the selected domains verified"), permissions=["manage"])
    def verify(self, request: HttpRequest, queryset: QuerySet[PartnerDomain]) -> None:
        for domain in queryset:
            services.partner_domain_verify(domain=domain, actor=_operator(request))
        count = queryset.count()
        messages.success(
            request,
            ngettext("Verified %(count)s domain.", "Verified %(count)s domains.", count)
            % {"count": number(count)},
        )

    @admin.action(
        description=_("Remove the selected domains (new rows on them are refused)"), permissions=["manage"]
    )
    def remove(self, request: HttpRequest, queryset: QuerySet[PartnerDomain]) -> None:
        count = 0
        for domain in queryset:
            services.partner_domain_remove(domain=domain, actor=_operator(request))
            count += 1
        messages.success(
            request,
            ngettext("Removed %(count)s domain.", "Removed %(count)s domains.", count)
            % {"count": number(count)},
        )


@admin.register(PartnerKey)
class PartnerKeyAdmin(HashedKeyAdmin):
    owner = "partner"

    def revoke_key(self, *, key: PartnerKey, actor: User | None) -> None:
        services.partner_key_revoke(key=key, actor=actor)


@admin.register(FilingPolicy)
class FilingPolicyAdmin(CheckedAdmin):
    list_display = ("partner", "auto_approve_verified_hashed", "sample_size", "updated_at")
    list_select_related = ("partner",)
    fields = ("partner", "auto_approve_verified_hashed", "sample_size", "updated_at")
    readonly_fields = ("partner", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # one per partner, made with it

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: FilingPolicy, form: ModelForm, change: bool) -> None:
        services.filing_policy_update(
            policy=obj,
            auto_approve_verified_hashed=form.cleaned_data["auto_approve_verified_hashed"],
            sample_size=form.cleaned_data["sample_size"],
            actor=_operator(request),
        )


@admin.register(Filing)
class FilingAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "partner", "state", "sample_state", "rows", "created_at")
    list_filter = ("state", "sample_state", "partner")
    list_select_related = ("partner",)
    search_fields = ("public_id", "partner__name")
    actions = ["pass_sample", "fail_sample", "revoke_removals"]

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("partners.change_filing")

    @admin.action(
        description=_("Revoke the selected filings' removals (maintainers are told; no more approvals)"),
        permissions=["revoke"],
    )
    def revoke_removals(self, request: HttpRequest, queryset: QuerySet[Filing]) -> TemplateResponse | None:
        reason = _reason_or_prompt(
            self,
            request,
            queryset,
            action="revoke_removals",
            question=gettext("Revoke every removal of these filings? Why?"),
            button=gettext("Revoke the removals"),
        )
        if isinstance(reason, TemplateResponse):
            return reason
        for filing in queryset:
            done = services.filing_revoke(filing=filing, reason=reason, actor=_operator(request))
            if not done.filings:
                messages.warning(
                    request,
                    gettext("Filing %(filing)s: its removals were revoked already.")
                    % {"filing": filing.public_id},
                )
                continue
            revoked = ngettext(
                "Filing %(filing)s: %(count)s removal revoked.",
                "Filing %(filing)s: %(count)s removals revoked.",
                done.removals,
            ) % {"filing": filing.public_id, "count": number(done.removals)}
            policy = gettext("Its policy approves nothing more.")
            messages.success(request, f"{revoked} {_told(done.events)} {policy}")
        return None

    def has_sample_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("partners.change_filing")

    @admin.display(description=_("rows"), ordering="total")
    def rows(self, obj: Filing) -> str:
        return gettext("%(total)s (%(rejected)s rejected, %(duplicates)s duplicates)") % {
            "total": number(obj.total),
            "rejected": number(obj.rejected),
            "duplicates": number(obj.duplicates),
        }

    # The filing's page: how far its file is (bytes received, rows read of those counted).
    readonly_fields = ("progress",)

    @admin.display(description=_("progress"))
    def progress(self, obj: Filing) -> str:
        if obj.source != FilingSource.FILE:
            return f"a JSON batch of {obj.total:,} rows"
        if obj.state == FilingState.RECEIVING:
            return f"receiving its file: {obj.received:,} of {obj.file_size or 0:,} bytes"
        of = f"of {obj.rows_total:,}" if obj.rows_total is not None else "(total not countable)"
        text = f"{obj.rows_read:,} rows read {of} from {obj.file_name} ({obj.file_format})"
        return f"{text}; failed: {obj.message}" if obj.state == FilingState.FAILED else text

    @admin.action(description=_("Pass the sample: let the policy decide the filing"), permissions=["sample"])
    def pass_sample(self, request: HttpRequest, queryset: QuerySet[Filing]) -> None:
        for filing in queryset:
            try:
                services.filing_sample_pass(filing=filing, actor=_operator(request))
            except services.SampleError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(
                    request,
                    gettext("Filing %(filing)s: sample passed; the policy decides it now.")
                    % {"filing": filing.public_id},
                )

    @admin.action(description=_("Fail the sample: hold the filing for the desk"), permissions=["sample"])
    def fail_sample(self, request: HttpRequest, queryset: QuerySet[Filing]) -> TemplateResponse | None:
        reason = _reason_or_prompt(
            self,
            request,
            queryset,
            action="fail_sample",
            question=gettext("Fail these samples? Why?"),
            button=gettext("Fail the samples"),
        )
        if isinstance(reason, TemplateResponse):
            return reason
        for filing in queryset:
            try:
                services.sample_fail(filing=filing, actor=_operator(request), reason=reason)
            except services.SampleError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(
                    request,
                    gettext("Filing %(filing)s: sample failed; every row waits for the desk.")
                    % {"filing": filing.public_id},
                )
        return None


@admin.register(FilingRow)
class FilingRowAdmin(ReadOnlyAdmin):
    list_display = (
        "filing_ref",
        "index",
        "state",
        "creator_id",
        "short_work_url",
        "basis",
        "matched",
        "short_error",
    )
    list_filter = ("state", "basis")
    list_select_related = ("filing",)
    search_fields = ("filing__public_id", "creator_id", "work_url")
    exclude = ("pdq",)

    # Short columns, so that the list fits beside its filters at 1280 px; each whole on the row's page.
    @admin.display(description=_("filing"), ordering="filing__public_id")
    def filing_ref(self, obj: FilingRow) -> str:
        return Truncator(obj.filing.public_id).chars(12)

    @admin.display(description=_("work URL"))
    def short_work_url(self, obj: FilingRow) -> str:
        return Truncator(obj.work_url or "").chars(30)

    @admin.display(description=_("error"))
    def short_error(self, obj: FilingRow) -> str:
        return Truncator(obj.error or "").chars(30)


@admin.register(PartnerAction)
class PartnerActionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "partner", "object_type", "object_id", "actor")
    list_filter = ("kind", "partner")
    list_select_related = ("partner", "actor")


@admin.register(CreatorClaim)
class CreatorClaimAdmin(ReadOnlyAdmin):
    """Who claimed which creator (each claim and lift is in the partner's audit trail too)."""

    list_display = ("partner", "creator_id", "user", "method", "status", "verified_at")
    list_filter = ("status", "method", "partner")
    list_select_related = ("partner", "user")
    search_fields = ("creator_id", "user__email", "partner__name")
    exclude = ("token",)


# The partners' desk (waiting, conflicting and sampled rows): its own module, registered with these.
from . import admin_desk  # noqa: E402, F401
