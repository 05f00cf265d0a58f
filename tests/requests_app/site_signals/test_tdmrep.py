"""tdmrep.json read strictly: the report's examples, and everything a hostile or careless file
can hold (an object, wrong types, huge numbers, deep nesting, NaN, duplicate keys, 10 MB)."""

from __future__ import annotations

import pytest

from requests_app.site_signals import describe, parse_tdmrep

HOST = "art.example"


def scopes(reading):
    return [line.scope for line in reading.scope]


def codes(findings):
    return [(f.line, f.code) for f in findings]


def words(reading):
    return [describe(p.as_json(), file_label="tdmrep.json") for p in reading.problems]


# The shape of the W3C TDMRep report's example: a policy for the whole site, images reserved,
# one public folder left open.
REPORT = b"""[
  {
    "location": "/",
    "tdm-reservation": 1,
    "tdm-policy": "https://art.example/policies/policy.json"
  },
  {
    "location": "/images/*",
    "tdm-reservation": 1
  },
  {
    "location": "/public/*",
    "tdm-reservation": 0
  }
]
"""


def test_the_reports_example():
    reading = parse_tdmrep(REPORT, host=HOST)
    assert scopes(reading) == [HOST]
    assert not reading.problems
    assert codes(reading.notes) == [(7, "covered"), (11, "not_reserved")]  # each rule at its "{"
    prefixes = parse_tdmrep(b'[{"location": "/images/*", "tdm-reservation": 1}]', host=HOST)
    assert scopes(prefixes) == ["art.example/images/"]
    assert parse_tdmrep(b"[]", host=HOST).scope == [] and not parse_tdmrep(b" [ ] ", host=HOST).fatal


def test_an_object_is_not_an_array():
    reading = parse_tdmrep(b'{"location": "/", "tdm-reservation": 1}', host=HOST)
    assert reading.fatal and words(reading) == [
        "tdmrep.json line 1: the file must be a JSON array of rules, [ {...}, ... ]; it is an object."
    ]
    assert parse_tdmrep(b'"/"', host=HOST).problems[0].params == {"kind": "a string"}
    assert parse_tdmrep(b"location: /", host=HOST).problems[0].params == {"kind": "not JSON"}


def test_wrong_types_are_refused_rule_by_rule_with_their_line():
    body = b"""[
  {"location": "/a/", "tdm-reservation": true},
  {"location": "/b/", "tdm-reservation": "1"},
  {"location": "/c/", "tdm-reservation": 1.0},
  {"location": "/d/", "tdm-reservation": 2},
  {"location": 7, "tdm-reservation": 1},
  {"tdm-reservation": 1},
  {"location": "/g/", "tdm-reservation": 1, "tdm-policy": "ftp://x"},
  "just a string",
  {"location": "g/", "tdm-reservation": 1},
  {"location": "/ok/", "tdm-reservation": 1}
]"""
    reading = parse_tdmrep(body, host=HOST)
    assert not reading.fatal and scopes(reading) == ["art.example/ok/"]
    assert codes(reading.problems) == [
        (2, "rule_wrong_type"),
        (3, "rule_wrong_type"),
        (4, "rule_wrong_type"),
        (5, "rule_bad_reservation"),
        (6, "rule_wrong_type"),
        (7, "rule_missing"),
        (8, "rule_bad_policy"),
        (9, "rule_not_object"),
        (10, "bad_path"),
    ]
    assert words(reading)[0] == "tdmrep.json line 2: rule 1: tdm-reservation must be 0 or 1, not true/false."
    assert words(reading)[5] == "tdmrep.json line 7: rule 6 has no location."


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'[{"location": "/", "tdm-reservation": 1' + b"0" * 5000 + b"}]", "json_big_number"),
        (b'[{"location": "/", "tdm-reservation": 1e999999}]', "json_big_number"),
        (b'[{"location": "/", "tdm-reservation": NaN}]', "json_constant"),
        (b'[{"location": "/", "tdm-reservation": -Infinity}]', "json_constant"),
        (b'[{"location": "/", "location": "/x", "tdm-reservation": 1}]', "json_duplicate"),
        (b"[" * 100_000 + b"]" * 100_000, "json_depth"),
        (b'[{"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": 1}}}}}}}}]', "json_depth"),
        (b'[{"location": "/", "tdm-reservation": 1},]', "json_syntax"),
        (b'[{"location": "/", "tdm-reservation": 1}', "json_syntax"),
        (b'[{"location": "/", "tdm-reservation": 1}] []', "json_trailing"),
        (b'[{"location": "/\x00", "tdm-reservation": 1}]', "nul"),
        (b'[{"location": "/caf\xe9", "tdm-reservation": 1}]', "not_utf8"),
        (b"[" + b'{"location": "/", "tdm-reservation": 0},' * 1001 + b"{}]", "json_too_many"),
        (b"[" + b" " * (10 * 1024 * 1024) + b"]", "too_large"),
    ],
)
def test_hostile_files_are_refused_whole(body, code):
    reading = parse_tdmrep(body, host=HOST)
    assert reading.fatal and reading.scope == []
    assert [p.code for p in reading.problems] == [code]
    assert words(reading)[0].startswith("tdmrep.json")


def test_a_syntax_error_names_its_line_and_column():
    reading = parse_tdmrep(b'[\n  {"location": "/",\n   "tdm-reservation": 1,,\n  }\n]', host=HOST)
    assert words(reading) == [
        "tdmrep.json line 3: not valid JSON: Expecting property name enclosed in double quotes (column 25)."
    ]


def test_bom_crlf_and_json_served_with_strings_that_look_like_brackets():
    body = b'\xef\xbb\xbf[\r\n{"location": "/[[[[[[[[[[/", "tdm-reservation": 1}\r\n]\r\n'
    reading = parse_tdmrep(body, host=HOST)
    assert not reading.fatal and scopes(reading) == ["art.example/[[[[[[[[[[/"]
