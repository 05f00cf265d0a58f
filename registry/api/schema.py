"""Teaches drf-spectacular how maintainers authenticate (imported by registry.apps)."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "registry.api.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A maintainer API key (rdk_...), as `Authorization: Bearer <key>`.",
        }


class CompatKeyScheme(OpenApiAuthenticationExtension):
    """`/api/v2/query/urls/` takes the key as `Authorization: API <key>`, which no http scheme names."""

    target_class = "registry.api.compat.CompatKeyAuthentication"
    name = "CompatApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A maintainer API key (rdk_...), as `Authorization: API <key>`.",
        }
