"""Cursor pagination on the primary key: opaque to clients, stable under appends."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from rest_framework.request import Request

from .errors import ApiError

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode().rstrip("=")


# A cursor this API gives out is a few dozen characters; anything far longer is not one.
MAX_CURSOR_LENGTH = 200
MAX_ID = 2**63 - 1


def decode_cursor(cursor: str) -> int:
    try:
        if len(cursor) > MAX_CURSOR_LENGTH or not cursor.isascii():
            raise ValueError
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after = data["after"]
        if type(after) is not int or not 0 <= after <= MAX_ID:
            raise ValueError
        return after
    except (ValueError, KeyError, TypeError, RecursionError, binascii.Error):
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


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    next: str | None
    """The cursor of the following page; None on the last page."""
    poll: str
    """The cursor just after this page's last row (the request's own when the page is empty):
    kept and sent later, it returns exactly the rows appended since."""


def paginate(queryset: QuerySet[Any], request: Request) -> Page:
    """Rows after the request's cursor, in primary-key order.

    One query of limit + 1 rows tells whether another page follows, so the
    last page answers `next: null` without counting anything.
    """
    limit = read_limit(request)
    cursor = request.query_params.get("cursor")
    after = decode_cursor(cursor) if cursor else 0
    rows = list(queryset.filter(pk__gt=after).order_by("pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1].pk if rows else after
    return Page(rows=rows, next=encode_cursor(last) if more else None, poll=encode_cursor(last))
