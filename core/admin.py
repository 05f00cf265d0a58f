"""Admin bases: what comes from outside is checked before the admin reads it, and rows whose
state belongs to services are listed and viewed, never edited here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.models import User
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.translation import gettext_lazy

from .text import parse_id, printable, text_problem

# A note, reply, question or reason longer than this is refused as a whole (services refuse
# notes and questions over 10,000 characters already; reasons and rulings had no limit).
ADMIN_TEXT_MAX = 10_000
_FIELD_NAMES = {
    "message": "message",
    "reason": "reason",
    "note": "note",
    "q": "search",
    "assignee": "assignee",
}


def _field_label(name: str) -> str:
    return _FIELD_NAMES.get(name) or f"field “{printable(name, 40)}”"


def outside_text_problem(values: Any, *, max_length: int = ADMIN_TEXT_MAX) -> str | None:
    """What is wrong with the first bad field of a QueryDict (core.text's check, and the
    length), as a sentence for the operator, or None when every field can be stored."""
    for name, items in values.lists():
        for value in (name, *items):
            problem = text_problem(value)
            if problem:
                return f"The {_field_label(name)} {problem}; remove it and send again."
            if len(value) > max_length:
                return (
                    f"The {_field_label(name)} is {len(value):,} characters long; keep it under "
                    f"{max_length:,}."
                )
    return None


class CheckedAdmin(admin.ModelAdmin):
    """The admin's lists and pages check what comes from outside before Django's admin reads it.

    A NUL in a filter or search (`?status__exact=%00`) reached PostgreSQL, which refuses it, and
    an id such as "²" or 5,000 digits in the bulk actions' selection reached `int()`: both were
    server errors. Now a bad value is a message on the page and nothing runs; integer ids go
    through core.text.parse_id, so "٣" is no longer read as row 3.
    """

    def _integer_ids(self) -> bool:
        return isinstance(self.model._meta.pk, models.IntegerField)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        problem = outside_text_problem(request.GET)
        if problem:
            messages.error(request, f"{problem} The list is shown without filters.")
            return HttpResponseRedirect(request.path)
        if request.method == "POST":
            problem = outside_text_problem(request.POST)
            selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
            if not problem and self._integer_ids() and any(parse_id(value) is None for value in selected):
                problem = "The selection holds something that is not a row id; select the rows again."
            if problem:
                messages.error(request, f"{problem} Nothing was changed.")
                return HttpResponseRedirect(request.get_full_path())
        # Lists take the whole width, as the desk's queue does, without the navigation side bar
        # (the breadcrumbs lead back): beside the filters, their columns fit 1280 px.
        return super().changelist_view(request, {**(extra_context or {}), "is_nav_sidebar_enabled": False})

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        if from_field is None and self._integer_ids() and parse_id(object_id) is None:
            return None  # the admin's "doesn't exist" message, never another row's page
        return super().get_object(request, object_id, from_field)


def request_operator(request: HttpRequest) -> User | None:
    """The signed-in operator, for the audit row (the admin only lets staff in)."""
    return request.user if isinstance(request.user, User) else None


class ReadOnlyAdmin(CheckedAdmin):
    """Listed and viewed, never added, edited or deleted here: services own these rows."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StaffRequest(HttpRequest):
    """The request of a view behind `admin_site.admin_view`: its user is logged in, active staff.

    Typed so that admin views pass request.user on to services without casts (as the artist
    views' ArtistRequest does); the admin's own check is what makes the annotation true.
    """

    user: User


class HashedKeyAdmin(ReadOnlyAdmin):
    """A list of one kind of API key (registry.models.HashedKey: maintainers', partners'), by the
    key's visible start and its owner (`owner`: the owner's field), each revocable here by an
    operator who may change such keys, through the owner's service (`revoke_key`)."""

    owner = ""
    actions = ["revoke"]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        owner = cls.owner
        cls.list_display = ("prefix", "name", owner, "created_at", "last_used_at", "revoked_at", "is_active")
        cls.list_filter = (("revoked_at", admin.EmptyFieldListFilter), owner)
        cls.list_select_related = (owner,)
        cls.search_fields = ("prefix", f"{owner}__name")
        cls.fields = (owner, "name", "prefix", "created_at", "last_used_at", "revoked_at")
        cls.readonly_fields = cls.fields

    def revoke_key(self, *, key: Any, actor: User | None) -> None:
        raise NotImplementedError

    @admin.display(boolean=True, description=gettext_lazy("active"))
    def is_active(self, obj: Any) -> bool:
        return bool(obj.is_active)

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    @admin.action(description=gettext_lazy("Revoke the selected keys"), permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        revoked = 0
        for key in queryset.filter(revoked_at__isnull=True):
            self.revoke_key(key=key, actor=request_operator(request))
            revoked += 1
        messages.success(request, f"Revoked {revoked} key(s); requests with them now get 401.")
