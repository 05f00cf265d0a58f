"""The Moderators group: what a moderator may see and do in the admin (not a superuser)."""

from __future__ import annotations

from typing import Any

MODERATOR_GROUP = "Moderators"

# (app_label, codename)
MODERATOR_PERMISSIONS = [
    ("requests_app", "view_removalrequest"),
    ("requests_app", "change_removalrequest"),
    ("requests_app", "moderate_removalrequest"),
    ("requests_app", "view_work"),
    ("requests_app", "view_match"),
    ("requests_app", "view_ticketevent"),
    ("requests_app", "view_artistprofile"),
    ("requests_app", "view_identityproof"),
    ("registry", "view_dataset"),
    ("registry", "view_datasetitem"),
    ("registry", "view_removal"),
    ("registry", "view_domainoptout"),
    ("registry", "view_maintainer"),
    ("registry", "view_webhookdelivery"),
    ("registry", "view_dispute"),
    ("registry", "decide_dispute"),
]


def ensure_moderator_group(**kwargs: Any) -> None:
    """post_migrate hook: create or refresh the group, so every deployment has it."""
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.get_or_create(name=MODERATOR_GROUP)
    wanted = []
    for app_label, codename in MODERATOR_PERMISSIONS:
        perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
        if perm is not None:
            wanted.append(perm)
    group.permissions.add(*wanted)
