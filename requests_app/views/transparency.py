"""The public transparency report (requests_app.report): a page of plots, each with its table, and
the same figures as CSV and JSON. Public: no login, nothing personal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from .. import report
from ..workflow import Status


@require_GET
def transparency(request: HttpRequest) -> HttpResponse:
    figures = report.report()
    months = figures["months"]
    requests_chart = report.bars([(m["month"], sum(m[k] for k in report.OUTCOME_KEYS)) for m in months])
    removals_chart = report.bars([(f"{d['dataset']}", d["in_force"]) for d in figures["datasets"]])
    ack_chart = report.bars(
        [
            (m["maintainer"], round(m["median_hours"] or 0))
            for m in figures["maintainers"]
            if m["acknowledged"]
        ]
    )
    outcome_labels = {
        "approved": Status.APPROVED.label,
        "rejected": Status.REJECTED.label,
        "withdrawn": Status.WITHDRAWN.label,
        "open": _("Not decided yet"),
    }
    outcome_list = [outcome_labels[k] for k in report.OUTCOME_KEYS]
    basis_list = [str(label) for _value, label in report.RemovalReason.choices]
    context = licences_context(figures["licences"])
    return render(
        request,
        "requests_app/transparency.html",
        {
            "figures": figures,
            "computed_at": datetime.fromisoformat(figures["computed_at"]),
            "fresh_minutes": max(1, figures["fresh_seconds"] // 60),
            "requests_chart": requests_chart,
            "removals_chart": removals_chart,
            "ack_chart": ack_chart,
            "outcome_labels": outcome_list,
            "month_rows": [
                {
                    "month": m["month"],
                    "outcomes": list(zip(outcome_list, (m[k] for k in report.OUTCOME_KEYS), strict=True)),
                    "bases": list(zip(basis_list, (m[k] for k in report.BASIS_KEYS), strict=True)),
                }
                for m in months
            ],
            "basis_labels": basis_list,
            "total_requests": sum(sum(m[k] for k in report.OUTCOME_KEYS) for m in months),
            **context,
            **_disputes_context(figures),
        },
    )


def licences_context(licences: dict[str, Any]) -> dict[str, Any]:
    """The licences section's plots and tables: grants standing per licence, grants per month."""
    labels = [str(report.Licence(k).label) for k in report.LICENCE_KEYS]
    per_licence = [{"label": label, **row} for label, row in zip(labels, licences["by_licence"], strict=True)]
    month_rows = [
        {
            "month": m["month"],
            "counts": list(zip(labels, (m[k] for k in report.LICENCE_KEYS), strict=True)),
            "total": sum(m[k] for k in report.LICENCE_KEYS),
        }
        for m in licences["by_month"]
    ]
    return {
        "licence_rows": per_licence,
        "licence_labels": labels,
        "licence_month_rows": month_rows,
        "licences_chart": report.bars([(row["label"], row["in_force"]) for row in per_licence]),
        "licences_month_chart": report.bars([(m["month"], m["total"]) for m in month_rows]),
        "total_licences": sum(row["in_force"] + row["revoked"] for row in per_licence),
    }


def _disputes_context(figures: dict[str, Any]) -> dict[str, Any]:
    """The disputes section: a bar per month (disputes opened), and the table of outcomes."""
    rows = figures.get("disputes", [])
    labels = {"upheld": _("Removal upheld"), "revoked": _("Removal revoked"), "open": _("Not decided yet")}
    return {
        "disputes_chart": report.bars([(m["month"], m["filed"]) for m in rows]),
        "dispute_outcome_labels": [labels[k] for k in report.DISPUTE_OUTCOME_KEYS],
        "dispute_rows": [
            {
                "month": m["month"],
                "filed": m["filed"],
                "outcomes": [(labels[k], m[k]) for k in report.DISPUTE_OUTCOME_KEYS],
            }
            for m in rows
        ],
        "dispute_totals": [(labels[k], sum(m[k] for m in rows)) for k in report.DISPUTE_OUTCOME_KEYS],
        "total_disputes": sum(m["filed"] for m in rows),
    }


@require_GET
def transparency_json(request: HttpRequest) -> HttpResponse:
    response = JsonResponse(report.report(), json_dumps_params={"indent": 1})
    response["Content-Disposition"] = 'attachment; filename="removal-desk-report.json"'
    return response


@require_GET
def transparency_csv(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(report.as_csv(report.report()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="removal-desk-report.csv"'
    return response
