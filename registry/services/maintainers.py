"""Maintainers and their API keys. Operators make these changes; each writes an OperatorAction."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any, TypeVar

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet

from core import clock

from ..models import ApiKey, HashedKey, Maintainer, OperatorActionKind
from .audit import operator_action_record

API_KEY_PREFIX = "rdk_"
K = TypeVar("K", bound=HashedKey)


def api_key_hash(raw: str) -> str:
    """The stored form of an API key (maintainers' here, partners' in partners.services)."""
    # Keys are 256 random bits: a fast hash is enough (no dictionary to guess from).
    return hashlib.sha256(raw.encode()).hexdigest()


def hashed_key_new(model: type[K], *, key_prefix: str, name: str, **owner: Any) -> tuple[K, str]:
    """A new key of `model` (maintainers' or partners') for `owner`: the row, and the raw key,
    which is returned once and never stored."""
    raw = key_prefix + secrets.token_urlsafe(32)
    key = model._default_manager.create(name=name, prefix=raw[:12], key_hash=api_key_hash(raw), **owner)
    return key, raw


def hashed_key_revoke(key: HashedKey) -> bool:
    """Revoke a key (requests with it get 401 from now on), in the caller's transaction; False
    when it was revoked already (nothing changes, and the caller writes no audit row)."""
    # The row lock: two operators revoking at once write one revocation and one audit row.
    locked = type(key)._default_manager.select_for_update().get(pk=key.pk)
    if locked.revoked_at is None:
        locked.revoked_at = clock.now()
        locked.save(update_fields=["revoked_at"])
        key.revoked_at = locked.revoked_at
        return True
    key.revoked_at = locked.revoked_at
    return False


def _api_key_new(*, maintainer: Maintainer, name: str) -> tuple[ApiKey, str]:
    return hashed_key_new(ApiKey, key_prefix=API_KEY_PREFIX, name=name, maintainer=maintainer)


@transaction.atomic
def api_key_create(
    *, maintainer: Maintainer, name: str = "default", actor: User | None = None
) -> tuple[ApiKey, str]:
    """Create a key; the raw key is returned once and never stored. `actor`: the operator, if any."""
    key, raw = _api_key_new(maintainer=maintainer, name=name)
    detail = {"prefix": key.prefix, "name": name}
    operator_action_record(actor=actor, kind=OperatorActionKind.API_KEY_CREATED, obj=key, detail=detail)
    return key, raw


def live_key_find(keys: QuerySet[Any], raw: str) -> Any:
    """The live key of `keys` (maintainers' or partners': both store hash, revoked_at and
    last_used_at) with this value, or None; its last use is noted."""
    key = keys.filter(key_hash=api_key_hash(raw), revoked_at__isnull=True).first()
    if key is None:
        return None
    now = clock.now()
    # Write last-used at most once a minute: a busy key must not write on every call.
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        keys.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def api_key_authenticate(raw: str) -> ApiKey | None:
    return live_key_find(ApiKey.objects.select_related("maintainer"), raw)


@transaction.atomic
def api_key_revoke(*, key: ApiKey, actor: User | None = None) -> None:
    """Revoke a key (requests with it get 401 from now on). Revoking a revoked key changes nothing."""
    if hashed_key_revoke(key):
        operator_action_record(
            actor=actor, kind=OperatorActionKind.API_KEY_REVOKED, obj=key, detail={"prefix": key.prefix}
        )


@transaction.atomic
def maintainer_create(
    *, name: str, email: str, members: Iterable[User] = (), actor: User | None = None
) -> tuple[Maintainer, str]:
    """A maintainer and its first key (one audit row for both); the raw key is returned once."""
    maintainer = Maintainer.objects.create(name=name, email=email)
    members = list(members)
    if members:
        maintainer.members.set(members)
    key, raw = _api_key_new(maintainer=maintainer, name="default")
    operator_action_record(
        actor=actor,
        kind=OperatorActionKind.MAINTAINER_CREATED,
        obj=maintainer,
        detail={
            "name": name,
            "email": email,
            "members": sorted(u.get_username() for u in members),
            "api_key": key.prefix,
        },
    )
    return maintainer, raw


@transaction.atomic
def maintainer_update(
    *, maintainer: Maintainer, name: str, email: str, members: Iterable[User], actor: User | None = None
) -> Maintainer:
    """Change a maintainer's name, email or members; one audit row naming what changed (none if nothing)."""
    locked = Maintainer.objects.select_for_update().get(pk=maintainer.pk)
    members = list(members)
    before = {
        "name": locked.name,
        "email": locked.email,
        "members": sorted(u.pk for u in locked.members.all()),
    }
    after = {"name": name, "email": email, "members": sorted(u.pk for u in members)}
    changed = [field for field in before if before[field] != after[field]]
    if not changed:
        return locked
    locked.name, locked.email = name, email
    locked.save(update_fields=["name", "email"])
    locked.members.set(members)
    detail: dict[str, object] = {"changed": changed}
    if "name" in changed:
        detail["name"] = [before["name"], name]
    if "email" in changed:
        detail["email"] = [before["email"], email]
    if "members" in changed:
        detail["members"] = sorted(u.get_username() for u in members)
    operator_action_record(actor=actor, kind=OperatorActionKind.MAINTAINER_CHANGED, obj=locked, detail=detail)
    return locked
