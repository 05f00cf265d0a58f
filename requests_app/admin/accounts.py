"""People's accounts (Django's users and groups) in the admin, with the checks and the width of every
other list here: Django's own UserAdmin kept the navigation side bar and ran 63 px past 1280."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth.models import Group, User

from core.admin import CheckedAdmin

admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(CheckedAdmin, auth_admin.UserAdmin):
    pass


@admin.register(Group)
class GroupAdmin(CheckedAdmin, auth_admin.GroupAdmin):
    pass
