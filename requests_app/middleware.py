"""Content Security Policy for the site's pages.

The artist pages load only their own static files: no inline script or
style, no third-party origin, and no page may frame them. The Django
admin gets a looser policy (it and its overrides use inline styles and
scripts); /api/ is left alone (its Redoc page, served from our static
files, needs inline styles and workers, and JSON answers need none).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

SITE_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)
ADMIN_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; frame-ancestors 'self'; form-action 'self'; base-uri 'self'"
)
HEADER = "Content-Security-Policy"


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if HEADER in response:  # a view's own, stricter policy (the private work images) stands
            return response
        path = request.path_info
        if path.startswith("/api/"):
            return response
        response[HEADER] = ADMIN_POLICY if path.startswith("/admin/") else SITE_POLICY
        return response
