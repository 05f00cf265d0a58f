"""Cursor pagination on the primary key: opaque to clients, stable under appends."""

from __future__ import annotations

import base64
import json
from typing import Any

from django.db.models import QuerySet
from rest_framework.request import Request

from .errors import ApiError

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after = data["after"]
        if not isinstance(after, int) or after < 0:
            raise ValueError
        return after
    except (ValueError, KeyError, TypeError, json.JSONDecodeError):
        raise ApiError(
            "invalid_cursor", "The cursor is not one this API gave out; start again without it."
        ) from None


def read_limit(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError("invalid_limit", f"limit must be a whole number from 1 to {MAX_LIMIT}.")
    return limit


def paginate(queryset: QuerySet[Any], request: Request) -> tuple[list[Any], str | None]:
    """Rows after the request's cursor, in primary-key order, and the next cursor.

    `next` is given whenever the page has rows, even the last one, so a client
    that keeps the last `next` it saw and polls later gets exactly what was
    appended since; an empty page answers `next: null`, which ends a loop.
    """
    limit = read_limit(request)
    cursor = request.query_params.get("cursor")
    if cursor:
        queryset = queryset.filter(pk__gt=decode_cursor(cursor))
    rows = list(queryset.order_by("pk")[:limit])
    return rows, (encode_cursor(rows[-1].pk) if rows else None)
