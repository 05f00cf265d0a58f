"""Who is a moderator: one rule, as a queryset and as a test of one user."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, Group, Permission, User

from requests_app import selectors
from requests_app.roles import MODERATOR_GROUP


def _user(username: str, *, staff: bool = True, active: bool = True, group: bool = False) -> User:
    user = User.objects.create_user(
        username, f"{username}@example.com", "pw", is_staff=staff, is_active=active
    )
    if group:
        user.groups.add(Group.objects.get(name=MODERATOR_GROUP))
    return user


def test_moderators_are_active_staff_in_the_group_and_superusers(db):
    in_group = _user("in-group", group=True)
    root = User.objects.create_superuser("root", "root@example.com", "pw")
    _user("staff-only")
    _user("inactive", active=False, group=True)
    _user("not-staff", staff=False, group=True)
    # The permission granted one by one, outside the group, does not make a moderator.
    direct = _user("direct-permission")
    direct.user_permissions.add(Permission.objects.get(codename="moderate_removalrequest"))
    inactive_root = User.objects.create_superuser("old-root", "old-root@example.com", "pw")
    inactive_root.is_active = False
    inactive_root.save()

    assert list(selectors.moderators()) == [in_group, root]
    for user in User.objects.all():
        assert selectors.is_moderator(user) == (user in (in_group, root)), user.username
    assert selectors.is_moderator(AnonymousUser()) is False


def test_a_moderator_in_two_groups_is_listed_once(db):
    in_group = _user("in-group", group=True)
    in_group.groups.add(Group.objects.create(name="Reviewers"))
    in_group.is_superuser = True
    in_group.save()
    assert list(selectors.moderators()) == [in_group]
