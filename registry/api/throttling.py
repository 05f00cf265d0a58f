"""Per-key rate limits. Over the limit: 429 with Retry-After (see errors.exception_handler)."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "maintainer"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        key = request.auth
        if key is None or not hasattr(key, "pk"):
            return None
        return self.cache_format % {"scope": self.scope, "ident": key.pk}
