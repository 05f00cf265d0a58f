"""Partner API keys: `Authorization: Bearer rdp_...`. A maintainer's key is refused here, by name."""

from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from registry.api.auth import ApiKeyAuthentication, WrongKindOfKey
from registry.services import api_key_authenticate

from ..models import Partner, PartnerKey
from ..services import PARTNER_KEY_PREFIX, partner_key_authenticate


class PartnerPrincipal:
    """Stands in for request.user: the partner the key belongs to."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, key: PartnerKey) -> None:
        self.key = key
        self.partner: Partner = key.partner

    def __str__(self) -> str:
        return str(self.partner)


class PartnerKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[PartnerPrincipal, PartnerKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        raw = raw.strip()
        if scheme.lower() != self.keyword.lower() or not raw:
            # The maintainer API's own messages for a wrong scheme or a missing key (it raises).
            ApiKeyAuthentication().authenticate(request)
        key = partner_key_authenticate(raw)
        if key is not None:
            return PartnerPrincipal(key), key
        if not raw.startswith(PARTNER_KEY_PREFIX) and api_key_authenticate(raw) is not None:
            raise WrongKindOfKey(
                "maintainer_key",
                f"This is a maintainer's API key; partner endpoints take your partner key "
                f"({PARTNER_KEY_PREFIX}...), which an operator gives you with your agreement.",
            )
        raise exceptions.AuthenticationFailed(
            f"This partner key is not valid or was revoked; ask us for a new one ({PARTNER_KEY_PREFIX}...)."
        )

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="partner-api"'


class IsPartner(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.user, PartnerPrincipal)


def partner_of(request: Request) -> Partner:
    user = request.user
    assert isinstance(user, PartnerPrincipal)
    return user.partner


def key_of(request: Request) -> PartnerKey:
    user = request.user
    assert isinstance(user, PartnerPrincipal)
    return user.key
