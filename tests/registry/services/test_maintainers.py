"""registry.services.maintainers: maintainers and their keys, each change with one audit row."""

from __future__ import annotations

from datetime import timedelta

from core import clock
from registry import services
from registry.models import ApiKey, OperatorAction, OperatorActionKind


def _actions(kind: str) -> list[OperatorAction]:
    return list(OperatorAction.objects.filter(kind=kind).order_by("pk"))


def test_a_maintainer_is_created_with_its_members_a_first_key_and_one_audit_row(moderator):
    maintainer, raw = services.maintainer_create(
        name="Acme", email="ops@acme.example", members=[moderator], actor=moderator
    )
    assert list(maintainer.members.all()) == [moderator]
    [key] = maintainer.api_keys.all()
    assert raw.startswith("rdk_") and raw.startswith(key.prefix) and len(key.prefix) == 12
    assert raw not in key.key_hash and key.name == "default"
    [action] = _actions(OperatorActionKind.MAINTAINER_CREATED)
    assert action.actor == moderator and action.maintainer == maintainer
    assert action.detail == {
        "name": "Acme",
        "email": "ops@acme.example",
        "members": [moderator.get_username()],
        "api_key": key.prefix,
    }
    assert not _actions(OperatorActionKind.API_KEY_CREATED)


def test_a_key_authenticates_until_it_is_revoked(maintainer):
    key, raw = services.api_key_create(maintainer=maintainer.maintainer, name="ci")
    assert services.api_key_authenticate(raw) == key
    assert services.api_key_authenticate(raw + "x") is None
    [created] = _actions(OperatorActionKind.API_KEY_CREATED)
    assert created.actor is None and created.detail == {"prefix": key.prefix, "name": "ci"}
    services.api_key_revoke(key=key)
    assert key.revoked_at is not None
    assert services.api_key_authenticate(raw) is None


def test_last_use_is_written_at_most_once_a_minute(maintainer):
    key, raw = services.api_key_create(maintainer=maintainer.maintainer)
    first = services.api_key_authenticate(raw).last_used_at
    assert ApiKey.objects.get(pk=key.pk).last_used_at == first
    with clock.travel(timedelta(seconds=30)):
        services.api_key_authenticate(raw)
        assert ApiKey.objects.get(pk=key.pk).last_used_at == first
    with clock.travel(timedelta(minutes=2)):
        services.api_key_authenticate(raw)
        assert ApiKey.objects.get(pk=key.pk).last_used_at > first


def test_revoking_a_revoked_key_changes_nothing_and_writes_no_second_row(maintainer, moderator):
    key, _ = services.api_key_create(maintainer=maintainer.maintainer)
    services.api_key_revoke(key=key, actor=moderator)
    revoked_at = ApiKey.objects.get(pk=key.pk).revoked_at
    stale = ApiKey.objects.get(pk=key.pk)
    stale.revoked_at = None  # another operator's copy, loaded before the first revocation
    with clock.travel(timedelta(hours=1)):
        services.api_key_revoke(key=stale, actor=moderator)
    assert stale.revoked_at == revoked_at == ApiKey.objects.get(pk=key.pk).revoked_at
    [action] = _actions(OperatorActionKind.API_KEY_REVOKED)
    assert action.actor == moderator and action.detail == {"prefix": key.prefix}


def test_an_update_audits_only_what_changed(maintainer, moderator, superuser):
    own = maintainer.maintainer
    unchanged = services.maintainer_update(maintainer=own, name=own.name, email=own.email, members=[])
    assert unchanged.name == own.name and not _actions(OperatorActionKind.MAINTAINER_CHANGED)

    services.maintainer_update(
        maintainer=own, name="Renamed", email=own.email, members=[moderator, superuser], actor=moderator
    )
    own.refresh_from_db()
    assert own.name == "Renamed" and set(own.members.all()) == {moderator, superuser}
    [action] = _actions(OperatorActionKind.MAINTAINER_CHANGED)
    assert action.detail["changed"] == ["name", "members"]
    assert action.detail["name"][1] == "Renamed" and "email" not in action.detail
    assert action.detail["members"] == sorted([moderator.get_username(), superuser.get_username()])
