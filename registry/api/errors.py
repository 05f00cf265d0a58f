"""API.md's error body everywhere: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.defaults import server_error
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core.text import clean_deep

logger = logging.getLogger("registry.api")


class ApiError(exceptions.APIException):
    def __init__(
        self, code: str, message: str, *, status_code: int = 400, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.error_code = code
        self.message = message
        self.details = details or {}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    # Details and messages may quote what the client sent: never echo text that cannot be encoded.
    return clean_deep({"error": {"code": code, "message": message, "details": details or {}}})


SERVER_ERROR = ("server_error", "Something failed on our side; it was logged. Try again later.")


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            inner = _first_message(value)
            return inner if key == "non_field_errors" else f"{key}: {inner}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


AUTHENTICATION_FAILED = "This API key is not valid or was revoked; create a new one in the admin or ask us."

_SIMPLE = {
    exceptions.NotAuthenticated: (
        "unauthorized",
        "Send your API key as 'Authorization: Bearer <key>'.",
    ),
    exceptions.AuthenticationFailed: ("unauthorized", AUTHENTICATION_FAILED),
    exceptions.NotFound: ("not_found", "Nothing exists at this address for your organisation."),
    exceptions.MethodNotAllowed: ("method_not_allowed", "This method is not allowed here."),
    exceptions.ParseError: ("malformed_json", "The body is not valid JSON; check its syntax."),
    exceptions.PermissionDenied: ("forbidden", "This API key may not do that."),
}


def _accepted_types(view: Any) -> list[str]:
    try:
        return [parser.media_type for parser in view.get_parsers()]
    except AttributeError:
        return ["application/json"]


def _auth_keyword(view: Any) -> str:
    authenticators: list[Any] = getattr(view, "get_authenticators", list)()
    return str(getattr(authenticators[0], "keyword", "Bearer")) if authenticators else "Bearer"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    view = context.get("view")
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = ApiError(
            "payload_too_large",
            "The body is too large; send fewer entries per call.",
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if not isinstance(exc, exceptions.APIException):
        request = context.get("request")
        logger.error(
            "Unexpected error in %s %s",
            getattr(request, "method", "?"),
            getattr(request, "path", "?"),
            exc_info=exc,
        )
        set_rollback()
        return Response(error_body(*SERVER_ERROR), status=status.HTTP_500_INTERNAL_SERVER_ERROR)

    headers: dict[str, str] = {}
    if isinstance(exc, ApiError):
        body = error_body(exc.error_code, exc.message, exc.details)
    elif isinstance(exc, exceptions.ValidationError):
        body = error_body(
            "invalid_request",
            _first_message(exc.detail),
            exc.detail if isinstance(exc.detail, dict) else {"errors": exc.detail},
        )
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        accepted = " or ".join(f"'Content-Type: {t}'" for t in _accepted_types(view))
        body = error_body(
            "unsupported_media_type",
            f"This endpoint takes its body with {accepted}.",
        )
    elif isinstance(exc, exceptions.NotAuthenticated):
        body = error_body(
            "unauthorized", f"Send your API key as 'Authorization: {_auth_keyword(view)} <key>'."
        )
    elif isinstance(exc, exceptions.Throttled):
        wait = int(getattr(exc, "wait", None) or 1)
        headers["Retry-After"] = str(wait)
        body = error_body(
            "rate_limited", f"Too many requests; try again in {wait} seconds.", {"retry_after": wait}
        )
    else:
        code, message = next(
            ((c, m) for cls, (c, m) in _SIMPLE.items() if isinstance(exc, cls)),
            (exc.default_code if isinstance(exc.default_code, str) else "error", str(exc.detail)),
        )
        if isinstance(exc, exceptions.ParseError) and "application/json" not in _accepted_types(view):
            code, message = "malformed_body", f"The body could not be read: {exc.detail}"
        elif (
            isinstance(exc, exceptions.ParseError) and str(exc.detail) != exceptions.ParseError.default_detail
        ):
            message = f"The body could not be read as JSON: {exc.detail}."
        if isinstance(exc, exceptions.MethodNotAllowed):
            message = str(exc.detail)
        if (
            isinstance(exc, exceptions.AuthenticationFailed)
            and str(exc.detail) != exceptions.AuthenticationFailed.default_detail
        ):
            message = str(exc.detail)
        body = error_body(code, message)
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)


# Unknown paths under /api/ take any method: a POST must not meet the CSRF check (an HTML 403).
@csrf_exempt
def json_404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(
        error_body("not_found", "There is no API endpoint at this address; see /api/v1/docs/."),
        status=404,
    )


def handler500(request: HttpRequest) -> HttpResponse:
    """config.urls' handler500: the contract's JSON under /api/, Django's HTML page elsewhere.

    Django has already logged the exception with its traceback (django.request).
    """
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(*SERVER_ERROR), status=500)
    return server_error(request)
