"""The column-wide URL and domain checks give, row for row, what the rule gives one URL at a time
in Python (urlsplit and the registry's reading of a host): the same rows dropped for the same
reasons, on odd hosts too (ports, user info, IDNA and punycode, upper case, closing dots, IPv6
literals, percent escapes, empty and huge URLs)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from removal_desk_toolkit.domains import DomainScopes, Scope
from removal_desk_toolkit.filtering import REASONS, Removed
from removal_desk_toolkit.texts import _M, column_hashes, text_hash

SCOPE_LINES = [
    "img.example",
    "*.example",
    "*.artist.example",
    "artist.example.com",
    "*.bücher.example",
    "museum.example/collection/",
    "*.img.example/art/",
    "a-b.example",
    "_x.example",
    "*.com",
    "example.com",
    "*.photos-of-a-long-host-name.example",
    "*.x",
]
LABELS = [
    *("img", "artist", "example", "com", "xn--bcher-kva", "bücher", "Bücher", "EXAMPLE", "IMG", "a-b"),
    *("_x", "museum", "x", "photos-of-a-long-host-name", "cdn", "", "ex%61mple", "İ", "k"),
]

SCOPE_HOSTS = sorted({line.removeprefix("*.").split("/")[0] for line in SCOPE_LINES})
hosts = st.one_of(
    st.lists(st.sampled_from(LABELS), min_size=1, max_size=6).map(".".join),
    # Under a scope's host, so that scopes nest and the longest must win.
    st.builds(
        lambda labels, host: ".".join([*labels, host]),
        st.lists(st.sampled_from(LABELS), max_size=3),
        st.sampled_from(SCOPE_HOSTS),
    ),
    st.sampled_from(["[::1]", "[2001:DB8::1]", "[::1", "::1]", "127.0.0.1", "a" * 64, ("abc." * 70) + "com"]),
    st.text(st.characters(codec="utf-8"), max_size=12),
)
odd_urls = st.builds(
    lambda scheme, user, host, dots, port, rest: scheme + user + host + dots + port + rest,
    st.sampled_from(
        ["https://", "http://", "HTTPS://", "Http://", "ftp://", "//", "", " https://", "https:/"]
    ),
    st.sampled_from(["", "", "", "me@", "a:b@", "x.example:80@", "@"]),
    hosts,
    st.sampled_from(["", "", ".", ".."]),
    st.sampled_from(["", "", "", ":8443", ":", ":x", ":80@img.example"]),
    st.sampled_from(
        [
            "",
            "/",
            "/collection/1.jpg",
            "/art/x",
            "?q=1",
            "#top",
            "/a?b#c",
            "\t/x",
            " ",
            "/\t",
            "\\x",
            "%2F",
            "/" + "p" * 5000,
        ]
    ),
)


# Plain URLs under nested scopes, the case the column path decides itself.
nested_hosts = st.builds(
    lambda labels, host: ".".join([*labels, host]),
    st.lists(st.sampled_from(["img", "a", "artist", "IMG", "x", "com"]), max_size=3),
    st.sampled_from(SCOPE_HOSTS),
)
plain_urls = st.builds(
    lambda scheme, host, dot, rest: scheme + host + dot + rest,
    st.sampled_from(["https://", "http://"]),
    st.one_of(nested_hosts, st.lists(st.sampled_from(LABELS), min_size=1, max_size=4).map(".".join)),
    st.sampled_from(["", "", "."]),
    st.sampled_from(["", "/", "/collection/1.jpg", "/art/x", "?q=1", "#top"]),
)
urls = st.one_of(plain_urls, odd_urls, st.text(max_size=40))


def expected(removed: Removed, values: list[str | None]) -> list[tuple[str, str | None]]:
    """The rule, one URL at a time: its URL exactly, else the scope covering its host."""
    rule = DomainScopes(removed.scopes)
    out: list[tuple[str, str | None]] = []
    for url in values:
        if url is None:
            out.append(("", None))
        elif url in removed.urls:
            out.append(("url", removed.urls[url]))
        else:
            scope = rule.scope_of(url)
            out.append(("domain", str(scope)) if scope is not None else ("", None))
    return out


def verdicts(removed: Removed, column: pa.Array | pa.ChunkedArray) -> list[tuple[str, str | None]]:
    verdict = removed.check(pa.table({"url": column}), phash_column=None)
    return [(REASONS[r], name) for r, name in zip(verdict.reason, verdict.removal, strict=True)]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(st.one_of(urls, st.none()), min_size=1, max_size=30),
    lines=st.one_of(
        st.lists(st.sampled_from(SCOPE_LINES), max_size=6),
        st.just(
            [
                "*.example",
                "*.artist.example",
                "artist.example.com",
                "*.com",
                "*.x",
                "museum.example/collection/",
            ]
        ),
    ),
    removed_urls=st.sets(st.integers(0, 29), max_size=4),
    cut=st.integers(0, 3),
)
def test_every_row_gets_the_rules_verdict(values, lines, removed_urls, cut):
    removals = [
        {"id": f"rm_{i}", "url": values[i], "phash": None, "pdq": None}
        for i in sorted(removed_urls)
        if i < len(values) and values[i]
    ]
    removed = Removed(removals, domains=lines)
    want = expected(removed, values)
    assert verdicts(removed, pa.array(values, type=pa.string())) == want
    # In chunks, and as a slice of a longer array (its offsets do not start at zero).
    chunked = pa.chunked_array([pa.array(values[:cut], pa.string()), pa.array(values[cut:], pa.string())])
    assert verdicts(removed, chunked) == want
    sliced = pa.array(["https://img.example/x", *values], type=pa.large_string()).slice(1)
    assert verdicts(removed, sliced) == want


def test_a_batch_over_many_slices_matches_the_rule_row_for_row():
    rng = np.random.default_rng(16)
    pool = [
        "https://img.example/1.jpg", "https://cdn.artist.example/a", "http://Artist.Example./b",
        "https://www.bücher.example/c", "https://xn--bcher-kva.example/d", "https://me@img.example:8/e",
        "https://img.other:80@img.example/f", "https://museum.example/collection/g", "https://museum.example/h",
        "https://a.photos-of-a-long-host-name.example/i", "https://" + "abc." * 70 + "com/j",
        "https://plain.example/k", "https://[::1]/l", "https://notartist.example/m", "https://sub.img.example/art/n",
        "ftp://img.example/o", "https://img.example",
    ]  # fmt: skip
    values = [pool[i] for i in rng.integers(0, len(pool), 150_000)]
    removed = Removed(
        [{"id": "rm_1", "url": "https://plain.example/k", "phash": None, "pdq": None}],
        domains=["img.example", "*.artist.example", "*.bücher.example", "museum.example/collection/",
                 "*.photos-of-a-long-host-name.example", "*.img.example/art/"],
    )  # fmt: skip
    got = verdicts(removed, pa.array(values))
    assert got == expected(removed, values)
    assert {reason for reason, _ in got} == {"", "url", "domain"}


def test_a_url_hash_collision_costs_a_comparison_never_a_wrong_drop():
    # The hash is a polynomial in M over eight-byte words: raising one word by d and lowering
    # the one before by d * M keeps it. Find such a pair of ASCII strings.
    prefix = b"https://a.examp/"
    w0, w1 = int.from_bytes(b"photo-01", "little"), int.from_bytes(b"jpg-0000", "little")
    candidates = np.arange(1, 1 << 20, dtype=np.uint64)
    with np.errstate(over="ignore"):
        other0, other1 = np.uint64(w0) - candidates * np.uint64(_M), np.uint64(w1) + candidates
    high_bits = np.uint64(0x8080808080808080)
    ascii_words = ((other0 & high_bits) == 0) & ((other1 & high_bits) == 0)
    d = int(candidates[np.flatnonzero(ascii_words)[0]])
    removed_url = (prefix + w0.to_bytes(8, "little") + w1.to_bytes(8, "little")).decode("ascii")
    twin = (prefix + ((w0 - d * _M) % 2**64).to_bytes(8, "little") + (w1 + d).to_bytes(8, "little")).decode(
        "ascii"
    )
    assert twin != removed_url and text_hash(twin) == text_hash(removed_url)
    removed = Removed(
        [
            {"id": "rm_1", "url": removed_url, "phash": None, "pdq": None},
            {"id": "rm_2", "url": "https://b.example/2", "phash": None, "pdq": None},
        ]
    )
    got = verdicts(removed, pa.array([twin, removed_url, "https://b.example/2", twin]))
    assert got == [("", None), ("url", "rm_1"), ("url", "rm_2"), ("", None)]
    # Two removals whose URLs collide: each row is named by its own.
    both = Removed([{"id": "rm_a", "url": removed_url}, {"id": "rm_b", "url": twin}])
    assert verdicts(both, pa.array([twin, removed_url])) == [("url", "rm_b"), ("url", "rm_a")]


def test_the_vectorised_hash_is_the_hash_of_each_string():
    texts = ["", "a", "a\0", "12345678", "123456789", "https://img.example/" + "x" * 40, "bücher", "☃" * 9,
             "https://long.example/" + "y" * 300]  # fmt: skip
    values = pa.chunked_array([pa.array(texts[:3]), pa.array([*texts[3:], None])])
    hashes = column_hashes(values, slice_rows=4)
    assert [int(h) for h in hashes[: len(texts)]] == [text_hash(t) for t in texts]
    assert len(set(hashes[: len(texts)].tolist())) == len(texts)


def test_the_scopes_rule_prefers_the_exact_host_then_the_longest_wildcard_then_paths():
    scopes = DomainScopes([Scope.parse(line) for line in ["*.example", "*.artist.example", "artist.example",
                                                          "shop.example/art/"]])  # fmt: skip
    assert str(scopes.scope_of("https://artist.example/")) == "artist.example"
    assert str(scopes.scope_of("https://a.artist.example/")) == "*.artist.example"
    assert str(scopes.scope_of("https://shop.example/art/1")) == "*.example"
    rows, numbers = scopes.match(
        pa.array(
            ["https://artist.example/", "https://a.artist.example/", "https://x.y/", "https://shop.example/"]
        )
    )
    assert rows.tolist() == [0, 1, 3]
    assert [scopes.names[n] for n in numbers] == ["artist.example", "*.artist.example", "*.example"]
