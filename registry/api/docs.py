"""`/api/v1/docs/`: Redoc, served entirely from this site (no CDN, no web fonts) under its own CSP."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView
from rest_framework.request import Request
from rest_framework.response import Response

# Redoc renders with inline styles (styled-components) and runs its search in a blob: worker.
# Everything else is our own origin; its "Redocly" footer logo (a CDN image) is blocked.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; worker-src blob:; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)


class ApiDocsView(SpectacularRedocView):
    template_name = "registry/api_docs.html"

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = DOCS_POLICY
        return response
