"""registry.dispute_checks: what a dispute's statement, links and evidence file must be."""

from __future__ import annotations

import pytest

from registry import dispute_checks as checks


@pytest.mark.parametrize(
    "text",
    ["a < b and c > d, plain prose", "Tom & Jerry made it, in 2019", "Line one\nline two\ttabbed"],
)
def test_plain_prose_passes(text):
    assert checks.plain_text_problem(text, what="The statement", minimum=5) == ""


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "nothing"),
        ("   ", "nothing"),
        ("<b>bold</b> claim", "plain text"),
        ("<!-- a comment -->", "plain text"),
        ("&lt;script&gt;", "plain text"),
        ("&#60;script", "plain text"),
        ("bell \x07", "control"),
        ("nul \x00", "NUL"),
        ("surrogate \ud800", "surrogate"),
        ("x" * (checks.STATEMENT_MAX_LENGTH + 1), "at most"),
    ],
)
def test_bad_text_says_what_to_change(text, words):
    problem = checks.plain_text_problem(text, what="The statement")
    assert problem.startswith("The statement") or "The statement" in problem
    assert words.lower() in problem.lower() or (words == "nothing" and "empty" in problem)


def test_a_minimum_length_is_asked_for():
    assert "at least 20" in checks.plain_text_problem("too short", what="The answer", minimum=20)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,x",
        "ftp://a.example/x",
        "https://",
        "https://a.example/ x",
        "https://u:p@a.example/",
        "https://a.example:port/",
        "https://a.example/\x00",
        "https://a.example/" + "x" * 2000,
    ],
)
def test_links_must_be_web_addresses(url):
    assert checks.link_problem(url)


def test_good_links_and_their_count():
    assert checks.links_problem(["https://a.example/x", "http://b.example/"]) == ""
    assert "at most 10" in checks.links_problem([f"https://a.example/{i}" for i in range(11)])
    assert checks.links_from_lines(" https://a.example/\n\nhttps://a.example/\nhttps://b.example/ ") == [
        "https://a.example/",
        "https://b.example/",
    ]


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.7", "pdf"),
        (b"\x89PNG\r\n\x1a\n", "png"),
        (b"\xff\xd8\xff\xe0", "jpg"),
        (b"MZ\x90", ""),
        (b"", ""),
    ],
)
def test_evidence_is_known_by_its_first_bytes(head, kind):
    assert checks.evidence_kind(head) == kind


def test_evidence_size_and_kind(settings):
    settings.DISPUTE_EVIDENCE_MAX_BYTES = 1024 * 1024
    assert checks.evidence_problem(size=10, head=b"%PDF-1.4") == ""
    assert "larger than 1 MB" in checks.evidence_problem(size=2 * 1024 * 1024, head=b"%PDF-1.4")
    assert "empty" in checks.evidence_problem(size=0, head=b"")
    assert "PDF, PNG or JPEG" in checks.evidence_problem(size=10, head=b"<html>")
