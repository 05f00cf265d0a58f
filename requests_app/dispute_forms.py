"""The forms of disputes: the public page's, and the artist's answer on their request page.

They check shape only (lengths, text that can be stored); what a dispute's parts must be is
registry.dispute_checks's, applied by the services, whose refusals come back beside the field.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest
from django.utils.translation import gettext
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


# What the text parts of the public form can weigh in a multipart body beyond the document: each
# field at its longest in 4-byte UTF-8, plus the parts' headers and boundaries.
TEXT_PARTS_MAX_BYTES = 4 * (2 * STATEMENT_MAX_LENGTH + LINKS_MAX_LENGTH + EMAIL_MAX_LENGTH) + 16 * 1024


def evidence_too_large_message() -> str:
    limit = settings.DISPUTE_EVIDENCE_MAX_BYTES
    return gettext("The file is larger than %(mb)d MB; send a smaller one or a link to it.") % {
        "mb": max(1, limit // (1024 * 1024))
    }


def evidence_refused_form(data: Any = None) -> DisputeNewForm:
    """The public form shown again after its document was refused for its size: with what arrived
    before it (`data`), and the document's error alone (the parts after it were never read)."""
    form = DisputeNewForm(data if data is not None else {})
    form.full_clean()
    form.errors.clear()
    form.add_error("evidence", evidence_too_large_message())
    return form


def dispute_body_too_large(request: HttpRequest) -> bool:
    """Whether the request says (CONTENT_LENGTH) it carries more than a document at the limit and
    the text fields at their longest: refused before a byte of the body is read."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False  # Django reads no body of a length it cannot parse
    return length > settings.DISPUTE_EVIDENCE_MAX_BYTES + TEXT_PARTS_MAX_BYTES


class EvidenceLimit(FileUploadHandler):
    """Stops a multipart upload as soon as its file parts pass DISPUTE_EVIDENCE_MAX_BYTES: the rest
    of the body is read and dropped, never written to a temporary file. First of the request's
    handlers, so the others (memory, temporary file) see nothing past the limit."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.limit = settings.DISPUTE_EVIDENCE_MAX_BYTES
        self.received = 0
        self.too_large = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        # Counted over every file part: two files under the limit each are still one too many.
        self.received += len(raw_data)
        if self.received > self.limit:
            self.too_large = True
            # Not a reset: the browser gets the page with the error, not a broken connection.
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> Any:
        return None
