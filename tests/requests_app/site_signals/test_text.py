"""What the parsers share: strict decoding, path patterns as scope lines, merging, wording."""

from __future__ import annotations

import time

import pytest
from django.utils import translation

from requests_app.site_signals import MESSAGES, Reading, ScopeLine, covers, describe, merge
from requests_app.site_signals._text import decode, file_type, prefix_of


@pytest.mark.parametrize(
    ("pattern", "prefix"),
    [
        ("/", "/"),
        ("/*", "/"),
        ("*", "/"),
        ("/art/", "/art/"),
        ("/art/*", "/art/"),
        ("/art", "/art"),
        ("/*.png", None),
        ("/art$", None),
        ("/a*b/", None),
        ("/page?x=1", None),
    ],
)
def test_prefix_of(pattern, prefix):
    assert prefix_of(pattern) == prefix


def test_file_type():
    assert file_type("*.JPG") == ("/", "jpg")
    assert file_type("/art/*.png$") == ("/art/", "png")
    assert file_type("/a*b/*.png") is None and file_type("/art/") is None and file_type("*.") is None


def test_decode_is_strict():
    reading = Reading()
    assert decode(b"\xef\xbb\xbfUser-agent: *\n", reading) == "User-agent: *\n"
    for body, code in (
        (b"a" * 2000, "too_large"),
        (b"ok\n\x00", "nul"),
        (b"ok\n\xff\xfe", "not_utf8"),
        (b"\n\n  ", "empty"),
    ):
        reading = Reading()
        assert decode(body, reading, max_bytes=1024) is None
        assert reading.fatal and [p.code for p in reading.problems] == [code]
    assert reading.problems[0].line is None


def test_merge_keeps_one_line_per_place():
    lines = [
        ScopeLine("art.example/art/2024/", 5, "a"),
        ScopeLine("art.example/art/", 3, "b"),
        ScopeLine("art.example/art/", 9, "c"),
        ScopeLine("www.art.example", 2, "d"),
        ScopeLine("art.example/blog", 4, "e"),
    ]
    reading = Reading()
    kept = merge(lines, reading)
    assert [k.scope for k in kept] == ["art.example/art/", "art.example/blog", "www.art.example"]
    assert [(n.line, n.code) for n in reading.notes] == [(5, "covered")]
    assert covers("art.example", "art.example/x/") and not covers("art.example", "www.art.example")
    assert covers("art.example/art", "art.example/artist/")  # a robots prefix is a string prefix
    assert [
        k.scope for k in merge([ScopeLine("a.example/art", 1, ""), ScopeLine("a.example/artist/", 2, "")])
    ] == ["a.example/art"]


def test_merging_a_hostile_number_of_prefixes_takes_a_sort_not_a_square():
    lines = [ScopeLine(f"art.example/p/{n}/", n, "") for n in range(200_000)]
    lines += [ScopeLine(f"art.example/p/{n}/deeper/", n, "") for n in range(0, 200_000, 2)]
    started = time.monotonic()
    kept = merge(lines, Reading())
    assert len(kept) == 200_000 and time.monotonic() - started < 5


def test_every_message_words_with_its_own_parameters():
    params = {
        "limit": 1,
        "byte": 1,
        "type": "t",
        "error": "e",
        "kind": "k",
        "digits": 1,
        "value": "v",
        "key": "k",
        "field": "f",
        "path": "/p",
        "allowed": "a",
        "index": 1,
        "agent": "a",
        "ext": "e",
        "scope": "s",
        "by": "b",
        "agents": "a",
        "status": 1,
        "seconds": 1,
        "where": "w",
        "hops": 1,
        "expected": "x",
    }
    for code in MESSAGES:
        assert "%(" not in describe({"line": 2, "code": code, "params": params}, file_label="ai.txt")
    # a stored finding from an older release, or missing its parameters, still reads
    assert describe({"line": None, "code": "gone", "params": {}}, file_label="ai.txt") == "ai.txt: gone"
    assert describe({"line": 1, "code": "too_large", "params": {}}, file_label="x").startswith("x line 1:")


def test_findings_are_worded_in_french():
    finding = {"line": 3, "code": "rule_missing", "params": {"index": 2, "key": "location"}}
    with translation.override("fr"):
        assert (
            describe(finding, file_label="tdmrep.json")
            == "tdmrep.json ligne 3 : la règle 2 n\u2019a pas de location."
        )
