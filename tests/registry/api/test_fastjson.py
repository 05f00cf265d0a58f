"""The look-up's orjson parser and renderer: the project's JSONParser's values and errors, DRF's
JSONRenderer's bytes, for every body and answer (registry/api/fastjson.py)."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ParseError
from rest_framework.renderers import JSONRenderer

from registry.api.fastjson import FastJSONParser, FastJSONRenderer, FragmentEncoder, fragment
from registry.api.parsers import JSONParser
from registry.models import LicenceGrant
from tests.helpers import assert_error


def parsed(parser: JSONParser, raw: bytes, charset: str | None = None) -> tuple[str, Any]:
    context = {"encoding": charset} if charset else {}
    try:
        return "value", parser.parse(io.BytesIO(raw), "application/json", context)
    except ParseError as exc:
        return "error", str(exc.detail)


def same_reading(raw: bytes, charset: str | None = None) -> tuple[str, Any]:
    fast, plain = parsed(FastJSONParser(), raw, charset), parsed(JSONParser(), raw, charset)
    # repr: NaN-free values compare by value, and 1 == 1.0 == True must not pass as the same
    assert repr(fast) == repr(plain)
    return fast


# Where orjson and the standard library part ways, each read as JSONParser reads it.
@pytest.mark.parametrize(
    ("raw", "outcome"),
    [
        (b'{"urls": ["x\\ud800y"]}', "value"),  # a lone surrogate escape: orjson refuses it
        (b'{"urls": [123456789012345678901234567890]}', "value"),  # past 64 bits: orjson, a float
        (b'{"urls": [-9223372036854775809]}', "value"),
        (b'{"urls": [18446744073709551615, 1.5, 1e5]}', "value"),
        (b'{"urls": [1e400]}', "value"),  # inf to the standard library, an error to orjson
        (b'{"urls": [' + b"9" * 5_000 + b"]}", "error"),  # over 4,300 digits
        (b'{"urls": [NaN]}', "error"),
        (b'{"urls": [Infinity]}', "error"),
        (b'{"urls": ["a\x01b"]}', "error"),  # a raw control character
        (b'{"urls": ["a\\u0000b"]}', "value"),  # NUL escaped: the serializer refuses it later
        (b'{"urls": ["\xff"]}', "error"),  # invalid UTF-8
        (b'{"urls": ["\xed\xa0\x80"]}', "error"),  # a surrogate encoded in UTF-8
        (b'\xef\xbb\xbf{"urls": []}', "error"),  # a byte order mark
        (b'{"urls": []} x', "error"),
        (b"", "error"),
        (b'{"urls": [1], "urls": [2]}', "value"),  # the last one wins, in both
        (b"[" * 33 + b"]" * 33, "error"),  # deeper than 32
        (b"[" * 32 + b"]" * 32, "value"),
        (b'{"a": ' * 40 + b"1" + b"}" * 40, "error"),
        (b"[" * 2_000 + b"]" * 2_000, "error"),  # deeper than orjson's own limit
        (b"[" * 100_000, "error"),
    ],
)
def test_it_reads_each_hostile_body_as_the_json_parser_does(raw, outcome):
    assert same_reading(raw)[0] == outcome


def test_it_leaves_a_body_in_another_charset_to_the_standard_library():
    raw = '{"urls": ["https://i.example/é"]}'.encode("utf-16")
    assert same_reading(raw, "utf-16") == ("value", {"urls": ["https://i.example/é"]})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)
# JSON text with its pieces spliced at random: most bodies are broken somewhere.
tokens = st.sampled_from(
    [
        '"',
        "\\ud800",
        "\\udc00",
        "\\u0000",
        "1e400",
        "-0",
        "NaN",
        "[",
        "]",
        "{",
        "}",
        ",",
        ":",
        "\x01",
        "\u2028",
    ]
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(value=json_values, splice=st.lists(st.tuples(st.integers(0, 200), tokens), max_size=3))
def test_it_reads_any_body_as_the_json_parser_does(value, splice):
    text = json.dumps(value, ensure_ascii=bool(splice))
    for at, token in splice:
        text = text[:at] + token + text[at:]
    same_reading(text.encode("utf-8", "surrogatepass"))


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=64))
def test_it_reads_any_bytes_as_the_json_parser_does(raw):
    same_reading(raw)


def rendered_alike(data: Any) -> bytes | None:
    def render(renderer: JSONRenderer) -> tuple[str, bytes | str]:
        try:
            return "bytes", renderer.render(data, "application/json", {})
        except (TypeError, ValueError) as exc:
            return "error", type(exc).__name__

    fast, plain = render(FastJSONRenderer()), render(JSONRenderer())
    assert fast == plain
    return fast[1] if fast[0] == "bytes" else None


answer_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.datetimes(timezones=st.just(dt.UTC)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(data=answer_values)
def test_it_writes_the_bytes_drf_writes(data):
    rendered_alike(data)


@pytest.mark.parametrize(
    "data",
    [
        {"urls": {"https://i.example/\u2028\u2029": True}},  # escaped as DRF does
        {"x": '\x00\x1f\x7f"\\/é😀'},
        {"at": dt.datetime(2026, 12, 2, 6, 30, 1, 123456, tzinfo=dt.UTC), "day": dt.date(2026, 12, 2)},
        {"big": 2**70, "small": -(2**63) - 1},  # past 64 bits: DRF writes them
        {"lone": "\ud800"},  # DRF cannot encode it either: the same error
        {1: "a key that is not a string"},
        {"n": 1.5, "m": 1e300},
    ],
)
def test_it_writes_what_orjson_cannot_as_drf_does(data):
    rendered_alike(data)


def test_an_answer_asked_with_an_indent_is_indented_as_drf_does():
    data = {"urls": {"a": True}}
    fast = FastJSONRenderer().render(data, "application/json; indent=4", {})
    assert fast == JSONRenderer().render(data, "application/json; indent=4", {})
    assert b"\n    " in fast


def test_a_lookup_answer_is_drfs_bytes(api, other_maintainer):
    from registry import services

    dataset = services.dataset_create(maintainer=other_maintainer.maintainer, slug="s", name="S")
    services.removals_record(
        source_ref="RR-2026-000007",
        reason="copyright",
        entries=[services.RemovalEntry(dataset=dataset, url="https://img.example/a\u2028.jpg")],
    )
    urls = ["https://img.example/a\u2028.jpg", "https://img.example/é.jpg", "https://i.example/1"]
    response = api.post("/api/v1/lookup/", {"urls": urls}, format="json")
    assert response.status_code == 200

    # The values written once for many URLs (orjson fragments) are read back by DRF's renderer
    # through FragmentEncoder: the bytes are those DRF writes for the same answer.
    class DRFRenderer(JSONRenderer):
        encoder_class = FragmentEncoder

    assert response.content == DRFRenderer().render(response.data, "application/json", {})
    assert response.json()["urls"] == dict(zip(urls, [True, False, False], strict=True))
    assert response.json()["sources"] == {urls[0]: [{"source": "artist", "partner": ""}]}
    assert LicenceGrant.objects.count() == 0


def test_a_lookup_of_an_integer_past_64_bits_answers_its_digits(api):
    """orjson would read it as 1.2345678901234568e+29; the serializer turns the integer into text."""
    raw = b'{"urls": [123456789012345678901234567890]}'
    response = api.generic("POST", "/api/v1/lookup/", raw, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["urls"] == {"123456789012345678901234567890": False}


def test_a_lookup_with_an_unreadable_body_says_what_the_json_parser_says(api):
    error = assert_error(
        api.generic("POST", "/api/v1/lookup/", b'{"urls": []} x', content_type="application/json"),
        400,
        "malformed_json",
    )
    assert error["message"] == "The body could not be read as JSON: Extra data: line 1 column 14 (char 13)."


def test_a_v2_answer_is_drfs_bytes(maintainer):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"API {maintainer.key}")
    body = "https://img.example/a\u2028.jpg\n\nhttps://img.example/é.jpg\n".encode()
    response = client.generic("POST", "/api/v2/query/urls/", body, "text/plain")
    assert response.status_code == 200
    assert response.content == JSONRenderer().render(response.data, "application/json", {})
    assert [u["url"] for u in response.json()["urls"]] == [
        "https://img.example/a\u2028.jpg",
        "",
        "https://img.example/é.jpg",
    ]


def test_a_fragment_is_written_as_its_value_on_both_paths():
    """A value written once (fragment) reads as itself whether orjson writes the answer or,
    for an answer orjson cannot write (an integer past 64 bits), DRF's renderer does."""
    rule = [{"scope": "*.artist.example", "note": "é\u2028"}]
    assert fragment(2**70) == 2**70  # orjson cannot write it: given back for the fallback
    fast = FastJSONRenderer().render({"rules": fragment(rule), "n": 1}, "application/json", {})
    slow = FastJSONRenderer().render({"rules": fragment(rule), "n": 2**70}, "application/json", {})
    assert fast == JSONRenderer().render({"rules": rule, "n": 1}, "application/json", {})
    assert slow == JSONRenderer().render({"rules": rule, "n": 2**70}, "application/json", {})
    assert b"\\u2028" in fast and b"\\u2028" in slow
