"""URL converters for what the site's addresses carry: request references and row ids.

Anything else in their place is a 404 from the URL resolver, before a view or a query runs
(a NUL in a reference used to reach PostgreSQL, which refuses it: a server error).
"""

from __future__ import annotations

from django.urls import register_converter

from core.text import ID_PATTERN, parse_id

# services.request_create names a request "RR-<year>-<id, 6 digits or more>".
REFERENCE_PATTERN = r"RR-[0-9]{4}-[0-9]{6,19}"


class ReferenceConverter:
    regex = REFERENCE_PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class IdConverter:
    """A row id, parsed by core.text.parse_id (ASCII digits, small enough for bigint)."""

    regex = ID_PATTERN

    def to_python(self, value: str) -> int:
        parsed = parse_id(value)
        if parsed is None:
            raise ValueError(f"not an id: {value!r}")
        return parsed

    def to_url(self, value: int | str) -> str:
        return str(value)


class DisputeIdConverter(ReferenceConverter):
    """A dispute's public id (registry.ids: dp_ and URL-safe letters and digits)."""

    regex = r"dp_[A-Za-z0-9]{1,37}"


register_converter(ReferenceConverter, "reference")
register_converter(DisputeIdConverter, "dispute")
register_converter(IdConverter, "id")
