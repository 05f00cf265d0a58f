"""Forms of the artist-facing pages: they check input; services decide and change state."""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.contrib.auth.password_validation import password_validators_help_text_html, validate_password
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import ProhibitNullCharactersValidator, URLValidator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.text import text_problem
from registry.models import RemovalReason
from registry.preferences import ATTRIBUTION_MAX_LENGTH, LICENCE_URL_MAX_LENGTH, Choice, Licence

ACCEPTED_TYPES = "image/jpeg,image/png,image/webp"
# The address is the account's username too (services.artist_signup), which holds 150 characters.
EMAIL_MAX_LENGTH = 150


def validate_typed_text(value: str) -> None:
    """core.text's check for outside text (NUL, lone surrogates), said in the page's language."""
    if text_problem(value):
        raise ValidationError(
            _(
                "This text holds a character that cannot be stored (a NUL character or broken "
                "Unicode); remove it and try again."
            ),
            code="invalid_text",
        )


class OutsideTextForm(forms.Form):
    """A form whose every text field refuses what cannot be stored, with an error beside the field.

    Django's CharField refuses NUL already but lets lone surrogates through; this check replaces
    its NUL check so a field in error says one thing.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        checked_text_fields(self)


def checked_text_fields(form: forms.BaseForm) -> None:
    for field in form.fields.values():
        if isinstance(field, forms.CharField) and validate_typed_text not in field.validators:
            field.validators = [
                v for v in field.validators if not isinstance(v, ProhibitNullCharactersValidator)
            ] + [validate_typed_text]


class SignupForm(OutsideTextForm):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=EMAIL_MAX_LENGTH,
        help_text=_("We send a link to this address to confirm that it is yours."),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autocapitalize": "none"}),
    )
    display_name = forms.CharField(
        label=_("Your name"),
        max_length=150,
        help_text=_("The name you publish your work under; moderators see it."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password1, password2 = data.get("password1"), data.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords differ; type the same one twice."))
        elif password1:
            # An unsaved user, so the similarity validator can compare with the address.
            email = data.get("email") or ""
            candidate = get_user_model()(username=email, email=email)
            try:
                validate_password(password1, user=candidate)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input.

    Each file is checked by services.works_add, which reports a bad file by
    name and keeps the others, so this field only checks that there are
    some, and not too many for one form post (settings.UPLOAD_MAX_FILES).
    """

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = [f for f in data if f] if isinstance(data, list | tuple) else [f for f in [data] if f]
        if self.required and not files:
            raise ValidationError(self.error_messages["required"], code="required")
        limit = settings.UPLOAD_MAX_FILES
        if len(files) > limit:
            raise ValidationError(
                ngettext(
                    "You chose %(count)d files; this form takes at most %(limit)d at once. "
                    "Send the rest in a zip, or in several rounds.",
                    "You chose %(count)d files; this form takes at most %(limit)d at once. "
                    "Send the rest in a zip, or in several rounds.",
                    len(files),
                )
                % {"count": len(files), "limit": limit},
                code="too_many",
            )
        return files


def _works_field(*, required: bool) -> MultipleFileField:
    return MultipleFileField(
        label=_("Images of your works"),
        required=required,
        help_text=_(
            "JPEG, PNG or WebP. Choose several at once. We remove all metadata (camera, GPS) "
            "before storing them, and only you and our moderators can see them."
        ),
        widget=MultipleFileInput(attrs={"accept": ACCEPTED_TYPES}),
    )


PAGES_SEPARATOR = "\n\n--- Pages where I published these works ---\n"
MAX_PAGE_URLS = 200


def description_with_pages(description: str, urls: list[str]) -> str:
    """The request's description, then the artist's own pages, one URL a line, after a fixed separator."""
    description = description.strip()
    return f"{description}{PAGES_SEPARATOR}" + "\n".join(urls) if urls else description


def split_description(text: str) -> tuple[str, list[str]]:
    """The inverse of description_with_pages: (description, page URLs)."""
    description, _sep, pages = text.partition(PAGES_SEPARATOR)
    return description, [line for line in pages.splitlines() if line.strip()]


def _zip_field() -> forms.FileField:
    return forms.FileField(
        label=_("Or a zip of your images"),
        required=False,
        help_text=_(
            "One .zip file with JPEG, PNG or WebP images; folders inside it are fine. "
            "Each image is checked on its own."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
    )


class _WorksOrZip(OutsideTextForm):
    """At least one image or a zip, unless the page's script sends the images one by one."""

    js_upload = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        nothing = not data.get("works") and not data.get("zip") and not data.get("js_upload")
        if nothing and "works" not in self.errors:
            self.add_error("works", forms.Field.default_error_messages["required"])
        zip_file = data.get("zip")
        if zip_file is not None and not (zip_file.name or "").lower().endswith(".zip"):
            self.add_error("zip", _("Choose a file whose name ends in .zip."))
        return data


class RequestNewForm(_WorksOrZip):
    basis = forms.ChoiceField(
        label=_("Why should these images be removed?"),
        choices=RemovalReason.choices,
        initial=RemovalReason.COPYRIGHT,
        widget=forms.RadioSelect,
        help_text=_(
            "Copyright: you made the works or hold their rights. Likeness: they show you. "
            "Privacy: they show private information about you."
        ),
    )
    description = forms.CharField(
        label=_("Anything the moderators should know (optional)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For example where you first published the works, or a link to your portfolio."),
    )
    page_urls = forms.CharField(
        label=_("Your own pages where these works are published (optional)"),
        required=False,
        max_length=40_000,
        widget=forms.Textarea(attrs={"rows": 3, "autocapitalize": "none", "spellcheck": "false"}),
        help_text=_("One address a line, for example your portfolio or shop. Moderators use them to check."),
    )
    works = _works_field(required=False)
    zip = _zip_field()

    field_order = ["basis", "description", "page_urls", "works", "zip", "js_upload"]

    def clean_page_urls(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data.get("page_urls", "").splitlines()]
        urls = [line for line in lines if line]
        if len(urls) > MAX_PAGE_URLS:
            raise ValidationError(_("Give at most %(limit)d addresses.") % {"limit": MAX_PAGE_URLS})
        validate = URLValidator(schemes=["http", "https"])
        bad = []
        for url in urls:
            try:
                validate(url)
            except ValidationError:
                bad.append(url)
        if bad:
            raise ValidationError(
                _("These are not web addresses (they start with https://): %(urls)s")
                % {"urls": ", ".join(bad[:5])}
            )
        return list(dict.fromkeys(urls))


class DomainRequestForm(OutsideTextForm):
    """A domain request: its basis, a note, scope lines (checked by services.scope_lines_check),
    and the choice for everything under them (checked by services.domain_request_create; left
    out, the portfolio's default choice holds)."""

    basis = forms.ChoiceField(
        label=_("Your grounds for this request"),
        choices=RemovalReason.choices,
        initial=RemovalReason.COPYRIGHT,
        widget=forms.RadioSelect,
    )
    scope = forms.CharField(
        label=_("Which addresses, one line each"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 5, "autocapitalize": "none", "spellcheck": "false"}),
        help_text=_(
            "example.com: every image on that host. *.example.com: the host and all its subdomains. "
            "example.com/portfolio/: only under that path. Each must be within a domain you verified."
        ),
    )
    description = forms.CharField(
        label=_("Anything the moderators should know (optional)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The per-work form's fields, the same checks (ConsentForm, services.consent).
        for name, field in ConsentForm.base_fields.items():
            self.fields[name] = copy.deepcopy(field)
        self.fields["choice"].label = _("What AI may do with the images under these domains")
        self.fields["choice"].required = False
        checked_text_fields(self)

    def scope_lines(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("scope", "").splitlines() if line.strip()]

    def consent_data(self) -> dict[str, str]:
        names = ("choice", "licence", "licence_url", "attribution")
        return {name: self.cleaned_data.get(name, "") for name in names}


class ScopeEditForm(OutsideTextForm):
    """A draft domain request's scope lines, changed (checked again by services.request_scopes_set)."""

    scope = DomainRequestForm.base_fields["scope"]

    def scope_lines(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("scope", "").splitlines() if line.strip()]


class WorksAddForm(_WorksOrZip):
    works = _works_field(required=False)
    zip = _zip_field()


class ArtistReplyForm(OutsideTextForm):
    message = forms.CharField(
        label=_("Write to the moderators"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For example an answer to their question, or a link that shows the works are yours."),
    )


class PublicSearchForm(OutsideTextForm):
    image = forms.FileField(
        label=_("An image of your work"),
        help_text=_("JPEG, PNG or WebP, at most 10 MB. We do not keep it: it is checked and forgotten."),
        widget=forms.FileInput(attrs={"accept": ACCEPTED_TYPES}),
    )


class AccountDeleteForm(OutsideTextForm):
    password = forms.CharField(
        label=_("Your password, to confirm"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError(_("This is not your password."))
        return password


class SubmitForm(OutsideTextForm):
    signed_name = forms.CharField(
        label=_("Type your full name to sign"),
        max_length=150,
        error_messages={"required": _("Type your full name to sign the statement.")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    # The language the statement was shown in: the one stored as signed.
    language = forms.ChoiceField(choices=settings.LANGUAGES, required=False, widget=forms.HiddenInput)


class AccountNameForm(OutsideTextForm):
    display_name = forms.CharField(
        label=_("Your name"),
        max_length=150,
        help_text=_("The name you publish your work under; you sign your requests with it."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )


class WithdrawForm(OutsideTextForm):
    confirm = forms.BooleanField(
        label=_("I understand that a withdrawn request cannot be reopened"),
        error_messages={"required": _("Tick the box to confirm: withdrawing cannot be undone.")},
    )


class ConsentForm(OutsideTextForm):
    """What AI may do with a work (or, for a request, with its works that make no choice of their
    own). The choice is checked by services.consent (registry.preferences.consent_clean), whose
    refusal names the field it is about."""

    choice = forms.ChoiceField(
        label=_("What AI may do with it"),
        choices=Choice.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose one of the three.")},
    )
    licence = forms.ChoiceField(
        label=_("Licence"),
        choices=Licence.choices,
        widget=forms.RadioSelect,
        required=False,
        help_text=_("Only for “Allow under a licence”."),
    )
    licence_url = forms.CharField(
        label=_("Address of your licence"),
        max_length=LICENCE_URL_MAX_LENGTH,
        required=False,
        help_text=_("Only for “Another licence”: an http:// or https:// address."),
        widget=forms.TextInput(attrs={"inputmode": "url", "autocomplete": "url"}),
    )
    attribution = forms.CharField(
        label=_("How to credit you"),
        max_length=ATTRIBUTION_MAX_LENGTH,
        required=False,
        strip=False,
        help_text=_("Plain text, no HTML: e.g. “Photo: A. Artist”. CC BY and CC BY-SA need it."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class EmailAuthenticationForm(AuthenticationForm):
    """The log-in form: accounts log in with their email address, so the error says so."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        checked_text_fields(self)

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "This email address and password do not match an account. Check both; "
            "the password is case-sensitive."
        ),
    }


class CheckedPasswordResetForm(PasswordResetForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        checked_text_fields(self)


class CheckedSetPasswordForm(SetPasswordForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        checked_text_fields(self)


# One answer per copy found: the radio buttons of the request's matches form.
MATCH_CHOICES = ("mine", "not_mine", "undecided")
