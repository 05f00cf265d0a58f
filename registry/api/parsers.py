"""The API's JSON parser: every way a body can fail to be JSON is one 400 (`malformed_json`)."""

from __future__ import annotations

import codecs
import json
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils.json import strict_constant

# No body of the contract nests deeper than 4 levels; a limit far below Python's
# recursion limit keeps every later step (validation, error rendering) safe too.
MAX_DEPTH = 32


def _too_deep(value: Any) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > MAX_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        # get_encoding (the charset check of DRF 3.18) is not in djangorestframework-stubs yet.
        encoding = parsers.get_encoding(parser_context or {})  # type: ignore[attr-defined]
        try:
            value = json.load(codecs.getreader(encoding)(stream), parse_constant=strict_constant)
        except RecursionError:
            raise ParseError(f"it nests deeper than {MAX_DEPTH} levels") from None
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, numbers over 4,300 digits
            raise ParseError(str(exc)) from None
        if _too_deep(value):
            raise ParseError(f"it nests deeper than {MAX_DEPTH} levels")
        return value
