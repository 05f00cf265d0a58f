"""Text from outside (API bodies, query strings, files, forms): the one place it is checked.

PostgreSQL refuses a NUL character in text, and a lone surrogate (which
JSON's `\\ud800` escape can carry) cannot be encoded as UTF-8, so either
one reaching a query, a hash or a response turns bad input into a server
error. Every entry point that takes outside text calls `text_problem` (or
uses the validator `validate_outside_text`), and messages about bad text show it with
`printable` so that the message itself can always be encoded.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError

_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored or answered as text, or None when it can."""
    if "\x00" in value:
        return "contains a NUL character (\\u0000), which text may not hold"
    # isascii() reads a flag every str carries: a batch of ASCII URLs is not scanned again.
    if not value.isascii() and _SURROGATE.search(value):
        return "contains a lone surrogate (\\ud800-\\udfff), which is not valid Unicode"
    return None


def is_clean_text(value: str) -> bool:
    return text_problem(value) is None


def printable(value: str, limit: int = 100) -> str:
    """`value` cut to `limit` characters with NULs and lone surrogates escaped, safe to echo."""
    cut = value[:limit]
    return cut.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def clean_deep(value: Any) -> Any:
    """A copy of a JSON-like value in which every string is `printable` (error bodies, logs)."""
    if isinstance(value, str):
        return value if is_clean_text(value) else printable(value, limit=len(value))
    if isinstance(value, dict):
        return {clean_deep(k): clean_deep(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_deep(v) for v in value]
    return value


def validate_outside_text(value: str) -> None:
    """A validator for Django forms and DRF fields alike."""
    problem = text_problem(value)
    if problem:
        raise ValidationError(f"This text {problem}.", code="invalid_text")


# --- ids from outside -------------------------------------------------------

# Every id PostgreSQL's bigint holds has at most 19 digits; 18 of them always fit.
ID_MAX_DIGITS = 18
# The same rule as a regular expression, for URL converters.
ID_PATTERN = f"[0-9]{{1,{ID_MAX_DIGITS}}}"


def parse_id(value: str | None) -> int | None:
    """A row id sent from outside (URL, form field, query string), or None when it is not one.

    Only ASCII digits, at most ID_MAX_DIGITS of them: `str.isdigit` accepts "²" (which
    `int()` then refuses), `int()` itself accepts "٣", " 3" and "1_0", and a number of
    thousands of digits either raises or overflows the column. The one parser for ids: a
    caller answers None with a form error, a 400 or a 404, never a server error.
    """
    if not isinstance(value, str) or not 1 <= len(value) <= ID_MAX_DIGITS:
        return None
    if not (value.isascii() and value.isdigit()):
        return None
    return int(value)
