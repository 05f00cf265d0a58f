"""Maintainer API keys: `Authorization: Bearer <key>` (the v2 compatibility endpoint: `API <key>`)."""

from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions, permissions, status
from rest_framework.request import Request

from ..models import ApiKey, Maintainer
from ..services import api_key_authenticate

# The visible start of a partner's key (the partners app's keys; registry does not import it).
PARTNER_KEY_PREFIX = "rdp_"


class WrongKindOfKey(exceptions.APIException):
    """403: a valid key of the other API (a partner's here, a maintainer's on the partner API).
    (Not errors.ApiError: this module is loaded by DRF's settings, before errors can be.)"""

    status_code = status.HTTP_403_FORBIDDEN

    def __init__(self, code: str, message: str) -> None:
        super().__init__(detail=message, code=code)
        self.default_code = code


class MaintainerPrincipal:
    """Stands in for request.user: the organisation the key belongs to."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, key: ApiKey) -> None:
        self.key = key
        self.maintainer: Maintainer = key.maintainer

    def __str__(self) -> str:
        return str(self.maintainer)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[MaintainerPrincipal, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            shown = (
                f"'{scheme}'" if scheme.isascii() and scheme.isprintable() and len(scheme) < 20 else "another"
            )
            raise exceptions.AuthenticationFailed(
                f"This endpoint takes the key as 'Authorization: {self.keyword} <key>'; "
                f"the header used the {shown} scheme."
            )
        if not raw.strip():
            raise exceptions.AuthenticationFailed(
                f"The Authorization header has no key after '{self.keyword}'; "
                f"send 'Authorization: {self.keyword} <key>'."
            )
        key = api_key_authenticate(raw.strip())
        if key is None and raw.strip().startswith(PARTNER_KEY_PREFIX):
            # A partner's key (partners app) files opt-outs; it reads no maintainer's data.
            raise WrongKindOfKey(
                "partner_key",
                "This is a partner's API key; it files opt-outs under /api/v1/partner/ and reads no "
                "maintainer data. Maintainer endpoints take a maintainer key (rdk_...).",
            )
        if key is None:
            raise exceptions.AuthenticationFailed()
        return MaintainerPrincipal(key), key

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


class IsMaintainer(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.user, MaintainerPrincipal)


def maintainer_of(request: Request) -> Maintainer:
    user = request.user
    assert isinstance(user, MaintainerPrincipal)
    return user.maintainer
