"""The forms of disputes: the public page's, and the artist's answer on their request page.

They check shape only (lengths, text that can be stored); what a dispute's parts must be is
registry.dispute_checks's, applied by the services, whose refusals come back beside the field.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from registry.dispute_checks import STATEMENT_MAX_LENGTH
from registry.models import DisputeReason

from .forms import EMAIL_MAX_LENGTH, OutsideTextForm

LINKS_MAX_LENGTH = 25_000


class DisputeNewForm(OutsideTextForm):
    removal = forms.CharField(
        label=_("The removed item"),
        max_length=2000,
        help_text=_(
            "Its address in the data set (https://...), or the removal id (rm_...) a maintainer gave you."
        ),
    )
    reason = forms.ChoiceField(
        label=_("Why the removal is wrong"), choices=DisputeReason.choices, widget=forms.RadioSelect
    )
    statement = forms.CharField(
        label=_("Your evidence"),
        max_length=STATEMENT_MAX_LENGTH,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Plain text: where and when the work was first published, who made it, anything a moderator can check."  # noqa: E501
        ),
    )
    links = forms.CharField(
        label=_("Links (optional)"),
        required=False,
        max_length=LINKS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Web addresses that support it, one per line: the first publication, your portfolio, a licence."
        ),
    )
    evidence = forms.FileField(
        label=_("A document (optional)"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "application/pdf,image/png,image/jpeg"}),
        help_text=_(
            "PDF, PNG or JPEG, at most 10 MB: a contract, an invoice, a dated original. Only moderators see it."  # noqa: E501
        ),
    )
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=EMAIL_MAX_LENGTH,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autocapitalize": "none"}),
        help_text=_(
            "We send a link to confirm it; the dispute opens when you open it. We write to you at each step."
        ),
    )


class DisputeAnswerForm(OutsideTextForm):
    body = forms.CharField(
        label=_("Your answer"),
        max_length=STATEMENT_MAX_LENGTH,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Plain text: why the work is yours and the item a copy of it. The disputant never sees it."
        ),
    )
    links = forms.CharField(
        label=_("Links (optional)"),
        required=False,
        max_length=LINKS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Web addresses that support your answer, one per line."),
    )
