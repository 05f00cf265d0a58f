"""The partners' desk in the admin: the rows the policy left to a person, with their evidence.

One list ("Partners' desk") of waiting, conflicting and sampled rows, by filing and partner, each
with what judging it takes side by side: the row as sent, whether its work URL lies on a verified
domain of the partner, the registered items it matched (URL, data set, hash distances) and any
artist's request that claims the same work. Its actions call partners.services.desk, which lock
the rows, record removals through the policy's own writer and audit each decision (PartnerAction,
the moderator as actor). A row's page shows the same evidence in full.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from registry.hashing import code_to_hex, pdq_to_hex

from . import services
from .admin import _operator, _reason_or_prompt, number
from .models import DESK_STATES, DeskRow, Filing, FilingRow, RowState, SampleMark
from .services.changes import change_set_aside
from .services.evidence import RowEvidence
from .services.filings import Served


class DeskChangeList(ChangeList):
    """Reads the evidence of the page's rows at once (three queries), never row by row."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        rows = list(self.result_list)
        evidence = services.desk_evidence(rows)
        served: dict[int, Served] = {}
        # The page's queryset keeps these very objects (its result cache): the columns read them.
        for row in rows:
            row.desk = evidence[row.pk]
            if row.partner_id not in served:
                served[row.partner_id] = Served.of(row.partner)
            row.served = served[row.partner_id].covers(row.work_url)


class DeskStateFilter(admin.SimpleListFilter):
    """The desk's own states only (the list holds nothing else)."""

    title = _("state")
    parameter_name = "state__exact"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(state.value, str(state.label)) for state in DESK_STATES]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(state=value) if value in RowState.values else queryset


class FilingOnDeskFilter(admin.SimpleListFilter):
    """The filings that have rows on the desk (the 50 newest): a filter by filing that stays short."""

    title = _("filing")
    parameter_name = "filing"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        # Newest first, one index probe (filing, state) per filing until 50 are found: no scan
        # of every row on the desk.
        on_desk = FilingRow.objects.filter(filing=OuterRef("pk"), state__in=DESK_STATES)
        filings = Filing.objects.filter(Exists(on_desk)).select_related("partner").order_by("-pk")[:50]
        return [(str(f.pk), f"{f.public_id[:12]} ({f.partner.name})") for f in filings]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(filing_id=int(value)) if value and value.isdigit() else queryset


def _evidence(obj: DeskRow) -> RowEvidence:
    found = getattr(obj, "desk", None)
    return found if found is not None else services.desk_evidence([obj])[obj.pk]


def _served(obj: DeskRow) -> tuple[bool, bool]:
    found = getattr(obj, "served", None)
    return found if found is not None else Served.of(obj.partner).covers(obj.work_url)


def _request_link(conflict: Any) -> str:
    url = reverse("admin:requests_app_removalrequest_change", args=[conflict.request_id])
    # Underlined: links inside a line of text must not differ by their colour alone.
    return format_html(
        '<a href="{}" style="text-decoration: underline">{}</a>',
        url,
        conflict.request.reference or f"#{conflict.request_id}",
    )


@admin.register(DeskRow)
class PartnerDeskAdmin(ReadOnlyAdmin):
    list_display = (
        "row_ref",
        "short_partner",
        "state",
        "short_creator",
        "short_work_url",
        "domain",
        "items",
        "conflict",
        "mark",
    )
    list_filter = (DeskStateFilter, FilingOnDeskFilter, "partner", "sample_mark")
    list_select_related = ("filing", "partner")
    search_fields = ("filing__public_id", "creator_id", "work_url")
    ordering = ("filing_id", "index")
    list_per_page = 50
    actions = ["approve", "decline", "mark_good", "mark_bad", "fetch_images_again"]
    fields = (
        "filing",
        "partner",
        "index",
        "state",
        "as_sent",
        "domain_evidence",
        "image",
        "matched_items",
        "artist_conflicts",
        "decision",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[DeskRow]:
        return super().get_queryset(request).filter(state__in=DESK_STATES)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return DeskChangeList

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("partners.view_filingrow")

    def has_desk_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("partners.change_filing")

    # --- the list's columns: short, so that the list fits 1280 px beside its filters

    @admin.display(description=_("row"), ordering="filing__public_id")
    def row_ref(self, obj: DeskRow) -> str:
        return f"{Truncator(obj.filing.public_id).chars(12)} #{obj.index}"

    @admin.display(description=_("partner"), ordering="partner__name")
    def short_partner(self, obj: DeskRow) -> str:
        return Truncator(obj.partner.name).chars(20)

    @admin.display(description=_("creator"), ordering="creator_id")
    def short_creator(self, obj: DeskRow) -> str:
        return Truncator(obj.creator_id).chars(16)

    @admin.display(description=_("work URL"))
    def short_work_url(self, obj: DeskRow) -> str:
        return Truncator(obj.work_url or "").chars(24)

    @admin.display(description=_("domain"))
    def domain(self, obj: DeskRow) -> str:
        on_domain, verified = _served(obj)
        if verified:
            return gettext("verified")
        return gettext("not verified") if on_domain else gettext("not the partner's")

    @admin.display(description=_("matched items"))
    def items(self, obj: DeskRow) -> str:
        found = _evidence(obj).items
        if obj.error_field == "image_url":
            return Truncator(obj.error).chars(40)
        if obj.matched_at is None and not found:
            return gettext("not matched yet")
        if not found:
            return gettext("none")
        first = found[0]
        more = f" +{len(found) - 1}" if len(found) > 1 else ""
        return f"{Truncator(first.item.dataset.slug).chars(12)}: {first.summary}{more}"

    @admin.display(description=_("conflict"))
    def conflict(self, obj: DeskRow) -> str:
        conflicts = _evidence(obj).conflicts
        if not conflicts:
            return "-"
        requests = {c.request_id: c for c in conflicts}
        return format_html_join(" ", "{}", ((_request_link(c),) for c in requests.values()))

    @admin.display(description=_("mark"), ordering="sample_mark")
    def mark(self, obj: DeskRow) -> str:
        return obj.get_sample_mark_display() if obj.state == RowState.SAMPLED else "-"

    # --- the row's page: the same evidence, in full

    @admin.display(description=_("the row as sent"))
    def as_sent(self, obj: DeskRow) -> str:
        fields = [
            (gettext("creator"), f"{obj.creator_id} · {obj.creator_url} {obj.creator_email}".strip()),
            (gettext("work URL"), obj.work_url),
            (gettext("image URL"), obj.image_url or "-"),
            ("pHash", code_to_hex(obj.phash) or "-"),
            ("dHash", code_to_hex(obj.dhash) or "-"),
            ("PDQ", pdq_to_hex(obj.pdq) or "-"),
            (gettext("basis"), obj.get_basis_display()),
            (gettext("choice"), obj.get_choice_display()),
        ]
        if obj.duplicate_of_id is not None:
            # Approving this row applies the change to the earlier row; declining drops it.
            fields.append((gettext("change of choice"), obj.error))
            if change_set_aside(obj):
                fields.append(
                    (
                        gettext("set aside"),
                        gettext(
                            "the creator chose for the earlier row after this change was sent: "
                            "approving it changes nothing"
                        ),
                    )
                )
        return format_html_join("\n", "<div><strong>{}</strong>: {}</div>", fields)

    @admin.display(description=_("partner's domain"))
    def domain_evidence(self, obj: DeskRow) -> str:
        on_domain, verified = _served(obj)
        domains = ", ".join(
            f"{d} ({gettext('verified') if d.verified else gettext('not verified')})"
            for d in obj.partner.domains.all()
        )
        if verified:
            verdict = gettext("The work URL is on a verified domain.")
        elif on_domain:
            verdict = gettext("The work URL is on a domain not verified.")
        else:
            verdict = gettext("The work URL is off.")
        listed = gettext("%(partner)s's domains: %(domains)s.") % {
            "partner": obj.partner.name,
            "domains": domains or gettext("none"),
        }
        return f"{verdict} {listed}"

    @admin.display(description=_("image"))
    def image(self, obj: DeskRow) -> str:
        if not obj.image_url:
            return gettext("no image URL")
        if obj.error_field == "image_url":
            return ngettext(
                "not hashed (%(count)s attempt): %(error)s",
                "not hashed (%(count)s attempts): %(error)s",
                obj.image_attempts,
            ) % {"count": obj.image_attempts, "error": obj.error}
        if obj.image_fetched_at:
            return gettext("fetched and hashed %(when)s (sha256 %(sha)s…)") % {
                "when": f"{obj.image_fetched_at:%Y-%m-%d %H:%M}",
                "sha": obj.image_sha256[:16],
            }
        return gettext("hashes sent by the partner") if obj.has_hashes else gettext("not fetched yet")

    @admin.display(description=_("matched registered items"))
    def matched_items(self, obj: DeskRow) -> str:
        found = _evidence(obj).items
        if not found:
            return gettext("none") if obj.matched_at else gettext("not matched yet")
        return format_html_join(
            "\n",
            "<div>{} ({}) · <a href='{}' rel='noreferrer' style='text-decoration: underline'>{}</a>"
            " · {}</div>",
            (
                (
                    s.item.dataset.name,
                    s.item.dataset.slug,
                    s.item.url,
                    Truncator(s.item.url).chars(80),
                    s.summary,
                )
                for s in found
            ),
        )

    @admin.display(description=_("artists' requests claiming the same work"))
    def artist_conflicts(self, obj: DeskRow) -> str:
        conflicts = _evidence(obj).conflicts
        if not conflicts:
            return "none"
        return format_html_join(
            "\n",
            "<div>{}</div>".replace("{}", gettext("{} by {} ({}) · work {} “{}” · {} (distance {})")),
            (
                (
                    _request_link(c),
                    c.request.artist.display_name,
                    c.request.get_status_display(),
                    c.work_id,
                    Truncator(c.work.original_name).chars(40),
                    c.get_kind_display(),
                    c.distance,
                )
                for c in conflicts
            ),
        )

    @admin.display(description=_("decision"))
    def decision(self, obj: DeskRow) -> str:
        if obj.decided_by_id is None:
            return "-"
        return format_html(
            "{} · {} · {}", obj.decided_by, f"{obj.decided_at:%Y-%m-%d %H:%M}", obj.decision_reason or "-"
        )

    # --- actions

    def _report(self, request: HttpRequest, result: services.DeskResult, done: str) -> None:
        if result.decided:
            messages.success(request, done)
        for skipped in result.skipped[:20]:
            # Why comes from the services, in English: the row and its reason, as the audit says.
            messages.warning(request, gettext("Left alone: %(why)s.") % {"why": skipped})
        for verdict in result.samples:
            messages.info(request, verdict)

    @admin.action(description=_("Approve for the partner (record the removals)"), permissions=["desk"])
    def approve(self, request: HttpRequest, queryset: QuerySet[DeskRow]) -> None:
        result = services.rows_approve(
            row_ids=queryset.values_list("pk", flat=True), actor=_operator(request)
        )
        approved = ngettext("Approved %(count)s row.", "Approved %(count)s rows.", result.decided) % {
            "count": number(result.decided)
        }
        recorded = ngettext(
            "%(count)s removal recorded.", "%(count)s removals recorded.", result.removals
        ) % {"count": number(result.removals)}
        self._report(request, result, f"{approved} {recorded}")

    @admin.action(description=_("Decline (nothing removed; asks why)"), permissions=["desk"])
    def decline(self, request: HttpRequest, queryset: QuerySet[DeskRow]) -> TemplateResponse | None:
        reason = _reason_or_prompt(
            self,
            request,
            queryset,
            action="decline",
            question=gettext("Decline these rows? Why?"),
            button=gettext("Decline"),
        )
        if isinstance(reason, TemplateResponse):
            return reason
        result = services.rows_decline(
            row_ids=queryset.values_list("pk", flat=True), actor=_operator(request), reason=reason
        )
        self._report(
            request,
            result,
            ngettext("Declined %(count)s row.", "Declined %(count)s rows.", result.decided)
            % {"count": number(result.decided)},
        )
        return None

    @admin.action(description=_("Mark sampled rows good"), permissions=["desk"])
    def mark_good(self, request: HttpRequest, queryset: QuerySet[DeskRow]) -> None:
        result = services.sample_rows_mark(
            row_ids=queryset.values_list("pk", flat=True), actor=_operator(request), mark=SampleMark.GOOD
        )
        self._report(
            request,
            result,
            ngettext(
                "Marked %(count)s sampled row good.", "Marked %(count)s sampled rows good.", result.decided
            )
            % {"count": number(result.decided)},
        )

    @admin.action(description=_("Mark sampled rows bad (asks why)"), permissions=["desk"])
    def mark_bad(self, request: HttpRequest, queryset: QuerySet[DeskRow]) -> TemplateResponse | None:
        reason = _reason_or_prompt(
            self,
            request,
            queryset,
            action="mark_bad",
            question=gettext("Mark these sampled rows bad? What is wrong?"),
            button=gettext("Mark bad"),
        )
        if isinstance(reason, TemplateResponse):
            return reason
        result = services.sample_rows_mark(
            row_ids=queryset.values_list("pk", flat=True),
            actor=_operator(request),
            mark=SampleMark.BAD,
            note=reason,
        )
        self._report(
            request,
            result,
            ngettext(
                "Marked %(count)s sampled row bad.", "Marked %(count)s sampled rows bad.", result.decided
            )
            % {"count": number(result.decided)},
        )
        return None

    @admin.action(description=_("Fetch the images again (their fetch failed)"), permissions=["desk"])
    def fetch_images_again(self, request: HttpRequest, queryset: QuerySet[DeskRow]) -> None:
        result = services.rows_image_retry(
            row_ids=queryset.values_list("pk", flat=True), actor=_operator(request)
        )
        self._report(
            request,
            result,
            ngettext(
                "%(count)s image will be fetched again by the worker.",
                "%(count)s images will be fetched again by the worker.",
                result.decided,
            )
            % {"count": number(result.decided)},
        )
