"""/.well-known/tdmrep.json (W3C TDMRep Community Group final report, 2024), read strictly.

The file is a JSON array of rules `{"location": "/images/*", "tdm-reservation": 1,
"tdm-policy": "https://..."}`. A rule with tdm-reservation 1 reserves text and data mining
(AI training included) for the paths its location matches: a robots-style pattern, "/" or "/*"
for the whole host, "/images/*" for a prefix. Rules with 0 are noted, not used.

Strict: the array is read rule by rule, so each problem names its line; nesting deeper than
MAX_DEPTH, more than MAX_RULES rules, NaN/Infinity, numbers of more than 20 digits, duplicate
keys and wrong types are refused with a message rather than guessed at.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ._text import MAX_BYTES, Reading, ScopeLine, decode, merge
from .robots import path_scope

MAX_DEPTH = 8
MAX_RULES = 1000
MAX_DIGITS = 20
_SPACE = re.compile(r"[ \t\n\r]*")


class _Refused(ValueError):
    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code, self.params = code, params


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise _Refused("json_big_number", digits=len(text.lstrip("-")))
    return int(text)


def _float(text: str) -> float:
    value = float(text) if len(text) <= MAX_DIGITS + 10 else math.inf
    if not math.isfinite(value):  # 1e999 is infinity, which no rule can hold
        raise _Refused("json_big_number", digits=len(text))
    return value


def _constant(text: str) -> Any:
    raise _Refused("json_constant", value=text)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Refused("json_duplicate", key=json.dumps(key)[:60])
        result[key] = value
    return result


_DECODER = json.JSONDecoder(
    parse_int=_int, parse_float=_float, parse_constant=_constant, object_pairs_hook=_pairs
)


def _skip(text: str, position: int) -> int:
    """The position after any JSON whitespace at `position`."""
    match = _SPACE.match(text, position)
    return match.end() if match else position


def _line_at(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


# A JSON string (escapes included) or one bracket: strings are skipped whole, in C.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _too_deep(text: str) -> int | None:
    """The position where brackets nest deeper than MAX_DEPTH (outside strings), or None.

    Checked before parsing: Python's decoder recurses, and a hostile file of 100,000 "[" would
    otherwise end in a RecursionError.
    """
    depth = 0
    for match in _TOKEN.finditer(text):
        char = match.group()
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return match.start()
        elif char in "]}":
            depth -= 1
    return None


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "null"
    return {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number"}.get(
        type(value), "a value"
    )


def _rules(text: str, reading: Reading) -> list[tuple[int, Any]] | None:
    """[(line, rule)] read one by one from the top-level array; None (and why) if it cannot be."""
    deep = _too_deep(text)
    if deep is not None:
        reading.refuse("json_depth", line=_line_at(text, deep), limit=MAX_DEPTH)
        return None
    position = _skip(text, 0)
    if text[position : position + 1] != "[":
        try:
            value, _end = _DECODER.raw_decode(text, position)
        except (json.JSONDecodeError, _Refused):
            reading.refuse("json_not_array", line=_line_at(text, position), kind="not JSON")
        else:
            reading.refuse("json_not_array", line=_line_at(text, position), kind=_kind(value))
        return None
    rules: list[tuple[int, Any]] = []
    counted, line = 0, 1  # lines counted up to `counted`: each rule's line costs its own stretch
    position = _skip(text, position + 1)
    try:
        if text[position : position + 1] == "]":
            position += 1
        else:
            while True:
                if len(rules) >= MAX_RULES:
                    reading.refuse("json_too_many", line=_line_at(text, position), limit=MAX_RULES)
                    return None
                start = position
                value, position = _DECODER.raw_decode(text, position)
                line += text.count("\n", counted, start)
                counted = start
                rules.append((line, value))
                position = _skip(text, position)
                separator = text[position : position + 1]
                if separator == "]":
                    position += 1
                    break
                if separator != ",":
                    raise json.JSONDecodeError("Expecting ',' or ']'", text, position)
                position = _skip(text, position + 1)
    except json.JSONDecodeError as exc:
        reading.refuse("json_syntax", line=exc.lineno, error=f"{exc.msg} (column {exc.colno})")
        return None
    except _Refused as exc:
        reading.refuse(exc.code, line=_line_at(text, position), **exc.params)
        return None
    if text[_skip(text, position) :]:
        reading.refuse("json_trailing", line=_line_at(text, position))
        return None
    return rules


def parse_tdmrep(body: bytes, *, host: str, max_bytes: int = MAX_BYTES) -> Reading:
    """What tdmrep.json at `host` reserves: scope lines for its rules with tdm-reservation 1."""
    reading = Reading()
    text = decode(body, reading, max_bytes=max_bytes)
    if text is None:
        return reading
    rules = _rules(text, reading)
    if rules is None:
        return reading
    scope: list[ScopeLine] = []
    for index, (line, rule) in enumerate(rules, 1):
        if not isinstance(rule, dict):
            reading.problem(line, "rule_not_object", index=index, kind=_kind(rule))
            continue
        location, reservation = rule.get("location"), rule.get("tdm-reservation")
        if "location" not in rule or "tdm-reservation" not in rule:
            missing = "location" if "location" not in rule else "tdm-reservation"
            reading.problem(line, "rule_missing", index=index, key=missing)
            continue
        if not isinstance(location, str):
            reading.problem(
                line,
                "rule_wrong_type",
                index=index,
                key="location",
                expected="a string",
                kind=_kind(location),
            )
            continue
        if type(reservation) is not int:  # true is not 1, 1.0 is not 1: the report says 0 or 1
            reading.problem(
                line,
                "rule_wrong_type",
                index=index,
                key="tdm-reservation",
                expected="0 or 1",
                kind=_kind(reservation),
            )
            continue
        if reservation not in (0, 1):
            reading.problem(line, "rule_bad_reservation", index=index, value=reservation)
            continue
        policy = rule.get("tdm-policy")
        if policy is not None and not (
            isinstance(policy, str) and policy.startswith(("https://", "http://")) and len(policy) <= 2000
        ):
            reading.problem(line, "rule_bad_policy", index=index)
            continue
        if reservation == 0:
            reading.note(line, "not_reserved", index=index, path=location[:120])
            continue
        source = f'"location": {json.dumps(location)[:120]}, "tdm-reservation": 1'
        path_scope(location, host=host, line=line, source=source, reading=reading, scope=scope)
    reading.scope = merge(scope, reading)
    reading.in_line_order()
    return reading
