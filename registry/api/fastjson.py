"""orjson for the look-up endpoints: the same bodies read and the same bytes written, faster.

A 10,000-URL look-up spends more on the standard library's JSON in and out than on the look-up
itself. These classes use orjson where its answer is known to be the standard library's, and
the standard library everywhere else, so a client sees no difference, errors included:

- a body orjson refuses is read again by the project's JSONParser, which accepts what it
  accepts (a lone surrogate escape, an integer past 64 bits, 1e400) and words each refusal as
  before (a lone surrogate then meets the serializer's text check, as it always has);
- orjson reads an integer outside 64 bits as a float, the standard library as an int: a body
  with a float anywhere is read again by the standard library;
- a body in another charset than UTF-8 goes to the standard library;
- an answer orjson cannot write (a lone surrogate, an integer past 64 bits, a key that is not a
  string) or one asked with `indent` is written by DRF's JSONRenderer; dates go through DRF's
  encoder, and U+2028/U+2029 are escaped as DRF does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from rest_framework import renderers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import get_encoding  # type: ignore[attr-defined]
from rest_framework.utils.encoders import JSONEncoder

from .parsers import MAX_DEPTH, JSONParser

_UTF8 = {"utf-8", "utf8"}
_CONTAINERS = (dict, list)


def _needs_stdlib(value: Any) -> bool | None:
    """None when `value` nests deeper than MAX_DEPTH; True when it holds a float (orjson and the
    standard library may disagree on it); else False. One pass, by type sets: a list of 10,000
    strings is one set() in C, not 10,000 isinstance calls."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    floats = False
    while stack:
        node, depth = stack.pop()
        if type(node) is dict:
            children: Any = node.values()
        elif type(node) is list:
            children = node
        else:
            continue
        if depth > MAX_DEPTH:
            return None
        kinds = set(map(type, children))
        if float in kinds:
            floats = True
        if dict in kinds or list in kinds:
            stack.extend((child, depth + 1) for child in children if type(child) in _CONTAINERS)
    return floats


class FastJSONParser(JSONParser):
    """JSONParser's results and errors, read by orjson when that cannot change them."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = get_encoding(parser_context or {})
        raw = stream.read() if stream is not None else b""
        if encoding.lower() in _UTF8:
            try:
                value = orjson.loads(raw)
            except orjson.JSONDecodeError:
                pass  # the standard library says what is wrong, in its words
            else:
                verdict = _needs_stdlib(value)
                if verdict is None:
                    raise ParseError(f"it nests deeper than {MAX_DEPTH} levels")
                if not verdict:
                    return value
        return _Replay(raw).parse_with(super(), media_type, parser_context)


class _Replay:
    """The body already read, handed to JSONParser as the stream it expects."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.at = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.raw) if size is None or size < 0 else self.at + size
        chunk = self.raw[self.at : end]
        self.at += len(chunk)
        return chunk

    def parse_with(self, parser: Any, media_type: str | None, parser_context: Any) -> Any:
        return parser.parse(self, media_type, parser_context)


_encoder = JSONEncoder()
# Dates as DRF writes them (milliseconds, Z), not orjson's own format.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def fragment(value: Any) -> Any:
    """`value` written out once, for an answer that repeats it (a rule's list under each of
    10,000 URLs): FastJSONRenderer copies the bytes where it would write the value again. A
    value orjson cannot write is given back as it is, for the renderer's fallback."""
    try:
        return orjson.Fragment(orjson.dumps(value, default=_encoder.default, option=_OPTIONS))
    except (orjson.JSONEncodeError, TypeError, ValueError):
        return value


class FragmentEncoder(JSONEncoder):
    """DRF's encoder, which reads a fragment's JSON back (the fallback's answer is the same)."""

    def default(self, obj: Any) -> Any:
        if isinstance(obj, orjson.Fragment):
            return orjson.loads(orjson.dumps(obj))  # its bytes, read back
        return super().default(obj)


class FastJSONRenderer(renderers.JSONRenderer):
    """DRF's JSONRenderer's bytes (compact, UTF-8, strict), written by orjson when it can."""

    encoder_class = FragmentEncoder

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None or self.get_indent(accepted_media_type or "", renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            out = orjson.dumps(data, default=_encoder.default, option=_OPTIONS)
        except (orjson.JSONEncodeError, TypeError, ValueError):
            return super().render(data, accepted_media_type, renderer_context)
        if out.isascii():  # a word at a time: most answers have nothing to escape
            return out
        # As DRF: these two are valid JSON but end a line in JavaScript.
        return out.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
