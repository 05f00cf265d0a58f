"""Forms of the artist-facing pages: they check input; services decide and change state."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import password_validators_help_text_html, validate_password
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from registry.models import RemovalReason

ACCEPTED_TYPES = "image/jpeg,image/png,image/webp"


class SignupForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
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
    some, and not too many for one request.
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
                    "You chose %(count)d files; a request holds at most %(limit)d. "
                    "Split them into several requests.",
                    "You chose %(count)d files; a request holds at most %(limit)d. "
                    "Split them into several requests.",
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


class RequestNewForm(forms.Form):
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
    works = _works_field(required=True)


class WorksAddForm(forms.Form):
    works = _works_field(required=True)


class SubmitForm(forms.Form):
    signed_name = forms.CharField(
        label=_("Type your full name to sign"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
