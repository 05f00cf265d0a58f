"""Maintainers and their API keys."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction

from core import clock

from ..models import ApiKey, Maintainer

API_KEY_PREFIX = "rdk_"


def _hash_key(raw: str) -> str:
    # Keys are 256 random bits: a fast hash is enough (no dictionary to guess from).
    return hashlib.sha256(raw.encode()).hexdigest()


def api_key_create(*, maintainer: Maintainer, name: str = "default") -> tuple[ApiKey, str]:
    """Create a key; the raw key is returned once and never stored."""
    raw = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(maintainer=maintainer, name=name, prefix=raw[:12], key_hash=_hash_key(raw))
    return key, raw


def api_key_authenticate(raw: str) -> ApiKey | None:
    key = (
        ApiKey.objects.select_related("maintainer")
        .filter(key_hash=_hash_key(raw), revoked_at__isnull=True)
        .first()
    )
    if key is None:
        return None
    now = clock.now()
    # Write last-used at most once a minute: a busy key must not write on every call.
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def api_key_revoke(*, key: ApiKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = clock.now()
        key.save(update_fields=["revoked_at"])


@transaction.atomic
def maintainer_create(*, name: str, email: str) -> tuple[Maintainer, str]:
    maintainer = Maintainer.objects.create(name=name, email=email)
    _, raw = api_key_create(maintainer=maintainer)
    return maintainer, raw
