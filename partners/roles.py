"""What moderators may do on the partners' side: read partners, filings and their rows, and pass
or fail a filing's sample and revoke a filing's removals (`change_filing`), and see who claimed
which creator. Set-up, keys, domains, policies and suspension stay
with operators (superusers)."""

from __future__ import annotations

from typing import Any

from requests_app.roles import MODERATOR_GROUP

MODERATOR_PERMISSIONS = [
    "view_partner",
    "view_partnerdomain",
    "view_filingpolicy",
    "view_filing",
    "change_filing",
    "view_filingrow",
    "view_partneraction",
    "view_creatorclaim",
]


def grant_moderators(**kwargs: Any) -> None:
    """post_migrate hook (after this app's permissions exist): add them to the Moderators group."""
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.get_or_create(name=MODERATOR_GROUP)
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="partners", codename__in=MODERATOR_PERMISSIONS)
    )
