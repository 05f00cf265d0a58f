"""Hosts and paths of URLs keyed for domain opt-outs, with hostile input, and scope lines."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.hosts import (
    Scope,
    ScopeError,
    host_key,
    host_of_key,
    key_suffixes,
    normalise_host,
    parse_scope,
    url_host_keys,
    url_host_path,
    url_host_paths,
)


@pytest.mark.parametrize(
    ("url", "key", "path"),
    [
        ("https://www.Example.COM/a/B.jpg?x=1#f", "com.example.www.", "/a/B.jpg"),
        ("https://user:pass@example.com:8443/x", "com.example.", "/x"),
        ("https://a@b@example.com/x", "com.example.", "/x"),
        ("http://example.com./x", "com.example.", "/x"),
        ("http://EXAMPLE.com", "com.example.", "/"),
        ("https://bücher.example/p.png", "example.xn--bcher-kva.", "/p.png"),
        ("https://xn--bcher-kva.example/p.png", "example.xn--bcher-kva.", "/p.png"),
        ("https://ex%61mple.com/x", "com.example.", "/x"),
        ("http://[2001:DB8::0:1]:8080/x", "[2001:db8::1].", "/x"),
        ("http://192.0.2.10/x", "10.2.0.192.", "/x"),
    ],
)
def test_urls_are_keyed_by_reversed_lower_case_idna_host(url, key, path):
    assert url_host_path(url) == (key, path)


@pytest.mark.parametrize(
    "url",
    [
        "https://exa\x00mple.com/x",
        "https://" + "a" * 64 + ".example.com/",  # a label over 63 characters
        "https://" + ".".join(["abcdefghi"] * 30) + "/",  # a host over 253 characters
        "https://exa mple.com/",
        "https://[::1/",
        "https://[not-an-ip]/x",
        "https://a..b.com/",
        "https://-bad-.com/",
        "https://%00.com/",
        "not a url",
        "",
        "https:///path-only",
    ],
)
def test_hostile_urls_have_no_host_and_never_raise(url):
    assert url_host_path(url) == ("", "")


def test_a_key_reverses_and_round_trips():
    assert host_key("www.example.com") == "com.example.www."
    assert host_of_key("com.example.www.") == "www.example.com"
    assert host_key("") == ""
    assert key_suffixes("com.example.www.") == ["com.", "com.example.", "com.example.www."]
    assert normalise_host("WWW.EXAMPLE.COM.") == "www.example.com"


@pytest.mark.parametrize(
    ("scope", "url", "covered"),
    [
        (Scope("example.com"), "https://example.com/a.jpg", True),
        (Scope("example.com"), "https://www.example.com/a.jpg", False),
        (Scope("example.com", include_subdomains=True), "https://www.example.com/a.jpg", True),
        (Scope("example.com", include_subdomains=True), "https://a.b.example.com/a.jpg", True),
        (Scope("example.com", include_subdomains=True), "https://example.com/a.jpg", True),
        (Scope("example.com", include_subdomains=True), "https://notexample.com/a.jpg", False),
        (Scope("example.com", include_subdomains=True), "https://example.com.evil.net/a.jpg", False),
        (Scope("example.com", include_subdomains=True), "https://evil-example.com/a.jpg", False),
        (Scope("example.com", path_prefix="/art/"), "https://example.com/art/x.jpg", True),
        (Scope("example.com", path_prefix="/art/"), "https://example.com/art/", True),
        (Scope("example.com", path_prefix="/art/"), "https://example.com/artwork/x.jpg", False),
        (Scope("example.com", path_prefix="/art/"), "https://example.com/Art/x.jpg", False),
        (Scope("example.com", path_prefix="/art/"), "https://other.com/art/x.jpg", False),
    ],
)
def test_what_a_scope_covers(scope, url, covered):
    assert scope.covers(*url_host_path(url)) is covered


@pytest.mark.parametrize(
    ("line", "scope"),
    [
        ("example.com", Scope("example.com")),
        ("  *.Example.com  ", Scope("example.com", include_subdomains=True)),
        ("example.com/portfolio/", Scope("example.com", path_prefix="/portfolio/")),
        ("example.com/portfolio", Scope("example.com", path_prefix="/portfolio/")),
        ("https://example.com/", Scope("example.com")),
        ("*.example.com/art/", Scope("example.com", include_subdomains=True, path_prefix="/art/")),
        ("bücher.example", Scope("xn--bcher-kva.example")),
    ],
)
def test_scope_lines(line, scope):
    assert parse_scope(line) == scope


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("", "empty"),
        ("exa*mple.com", "wildcard only at the start"),
        ("192.0.2.1", "not an IP address"),
        ("[::1]", "not an IP address"),
        ("localhost", "not a full domain name"),
        ("exa mple.com", "not a domain name"),
        ("example.com/" + "a" * 120, "at most 100 characters"),
        ("example.com/a b/", "spaces"),
        ("exa\x00mple.com", "not a domain or an address"),
    ],
)
def test_bad_scope_lines_say_why(line, words):
    with pytest.raises(ScopeError, match=words):
        parse_scope(line)


def test_a_scope_reads_as_its_line():
    assert str(Scope("example.com", include_subdomains=True, path_prefix="/art/")) == "*.example.com/art/"


_url_parts = st.lists(
    st.sampled_from(
        ["https://", "HTTP://", "ftp://", "img.", "Artist.", "example", "ex%61mple", ".", ":8080", "/",
         "/art/", "?q=1", "#f", "@", "[::1]", "bücher", "\x00", " ", "-", "192.0.2.1", "a" * 70,
         "\n", "\r", "\t", ":", ":99999", "%2e", "\u2028", "_", "0"]
    ),
    max_size=8,
).map("".join)  # fmt: skip


@given(urls=st.lists(_url_parts, max_size=30))
def test_a_batch_is_keyed_as_each_url_alone(urls):
    """url_host_paths makes each plain host's key once for a batch: the same answer as one by one,
    the same host written twice included."""
    urls = urls + [u.upper() for u in urls]
    assert url_host_paths(urls) == {u: url_host_path(u) for u in urls}


@given(urls=st.lists(_url_parts | st.text(max_size=12), max_size=30))
def test_a_batch_s_host_keys_are_each_url_s_alone(urls):
    """url_host_keys reads the plain hosts of a whole batch from its joined text in one pass: the
    same key as url_host_path for every URL, line breaks, NULs and empty URLs included."""
    urls = urls + [u.upper() for u in urls]
    assert url_host_keys(urls) == [url_host_path(u)[0] for u in urls]


def test_host_keys_of_plain_and_other_urls_in_one_batch():
    urls = ["https://img.Artist.example/a.jpg", "https://ex%61mple.com/x", "http://EXAMPLE.com", ""]
    assert url_host_keys(urls) == ["example.artist.img.", "com.example.", "com.example.", ""]
    assert url_host_keys(["https://a.example/x\nhttps://b.example/y"]) == ["example.a."]
