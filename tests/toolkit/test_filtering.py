"""The filter's batch function and its exact Hamming multi-index: every reason a row is dropped,
the hosts the registry would read the same way, and the index's answer equal to comparing every
pair."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from removal_desk_toolkit.filtering import Removed, Scope, column_codes
from removal_desk_toolkit.hamming import FOUR_SEGMENTS, SEGMENTS, MultiIndex, brute_force, layout


def random_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 2**64, n, dtype=np.uint64, endpoint=False)


def flipped(code: int, bits: list[int]) -> int:
    for bit in bits:
        code ^= 1 << int(bit)
    return code


@pytest.mark.parametrize("radius", [0, 1, 2, 3, 5, 6, 8, 10, 13])
def test_the_multi_index_finds_exactly_what_comparing_every_pair_finds(radius):
    rng = np.random.default_rng(radius)
    codes = random_codes(rng, 20_000)
    # Queries near indexed codes at every distance from 0 to 16 (in every segment), and far ones.
    near = [flipped(int(codes[i]), list(rng.choice(64, i % 17, replace=False))) for i in range(0, 3400, 10)]
    # The same flips all inside one segment, and spread over the three.
    near += [flipped(int(codes[7]), list(range(42, 42 + k))) for k in range(12)]
    near += [flipped(int(codes[9]), [0, 21, 42, 1, 22, 43, 2, 23, 44][:k]) for k in range(10)]
    near += [flipped(int(codes[11]), [0, 16, 32, 48, 1, 17, 33, 49][:k]) for k in range(9)]
    queries = np.concatenate([np.array(near, dtype=np.uint64), random_codes(rng, 200)])
    expected = brute_force(codes, queries, radius)
    assert len(expected[0]) > 0
    for segments in (SEGMENTS, FOUR_SEGMENTS):
        found = MultiIndex(codes, segments).search(queries, radius)
        for got, want in zip(found, expected, strict=True):
            np.testing.assert_array_equal(got, want)


def test_the_layout_is_three_segments_but_four_where_three_would_need_two_flips():
    assert layout(4, 1_000_000) == SEGMENTS and layout(5, 1_000_000) == SEGMENTS
    assert layout(6, 1_000_000) == FOUR_SEGMENTS and layout(7, 1_000_000) == FOUR_SEGMENTS


def test_the_multi_index_takes_signed_codes_and_empty_sides():
    codes = np.array([-1, 0, 5, -(2**63)], dtype=np.int64)
    index = MultiIndex(codes)
    _, c, d = index.search(np.array([-1], dtype=np.int64), 1)
    assert list(c) == [0] and list(d) == [0]
    assert all(len(part) == 0 for part in MultiIndex(np.empty(0, np.int64)).search(codes, 3))
    assert all(len(part) == 0 for part in index.search(np.empty(0, np.uint64), 3))


CODE = 0xB15FE6465121175E  # a photo's pHash (ones and zeros both plentiful)
PDQ = "f" * 32 + "0" * 32


def removals():
    return [
        {"id": "rm_url", "url": "https://img.example/cat.jpg", "phash": None, "pdq": None},
        {"id": "rm_hash", "url": "https://elsewhere.example/a.jpg", "phash": f"{CODE:016x}", "pdq": PDQ},
        {
            "id": "rm_hash_only",
            "url": None,
            "phash": f"{flipped(CODE, list(range(20, 44))):016x}",
            "pdq": None,
        },
        {"id": "rm_flat", "url": None, "phash": "0000000000000001", "pdq": None},
    ]


def test_it_drops_by_url_domain_and_hash_and_says_why():
    removed = Removed(removals(), domains=["*.artist.example", "exact.example", "museum.example/collection/"])
    rows = {
        "url": [
            "https://img.example/cat.jpg",  # the removed URL
            "https://img.example/cat.jpg?size=2",  # another URL: compared exactly, as the registry does
            "https://cdn.Artist.example/x.png",  # a subdomain of *.artist.example, any case
            "http://artist.example./",  # the host itself, closing dot
            "https://exact.example:8443/y",  # a port changes nothing
            "https://me@exact.example/z",  # nor user info
            "https://sub.exact.example/",  # exact.example does not cover its subdomains
            "https://notartist.example/",  # nor does *.artist.example cover look-alikes
            "https://museum.example/collection/1.jpg",
            "https://museum.example/shop/1.jpg",
            None,
            "https://copy.example/1.jpg",  # pHash 3 bits away, PDQ close
            "https://copy.example/2.jpg",  # pHash 3 bits away, PDQ far: not the same image
            "https://copy.example/3.jpg",  # pHash 7 bits away: beyond the radius
            "https://copy.example/4.jpg",  # flat: says nothing
            "not a url",
        ],
        "phash": [None] * 11
        + [
            f"{flipped(CODE, [1, 30, 50]):016x}",
            f"{flipped(CODE, [2, 31, 51]):016x}",
            f"{flipped(CODE, [1, 2, 3, 30, 31, 50, 51]):016x}",
            "0000000000000001",
            "zz",
        ],
        "pdq": [None] * 11 + ["f" * 32 + "0" * 31 + "1", "0" * 32 + "f" * 32, PDQ, None, None],
    }
    table = pa.table(rows)
    verdict = removed.check(table)
    reasons = [("", "url", "domain", "phash")[r] for r in verdict.reason]
    assert reasons == [
        "url", "", "domain", "domain", "domain", "domain", "", "",
        "domain", "", "", "phash", "", "", "", "",
    ]  # fmt: skip
    assert list(verdict.removal[:6]) == [
        "rm_url",
        None,
        "*.artist.example",
        "*.artist.example",
        "exact.example",
        "exact.example",
    ]
    assert verdict.removal[8] == "museum.example/collection/"
    assert verdict.removal[11] == "rm_hash" and verdict.distance[11] == 3
    kept, report = removed.filter_table(table)
    assert kept.num_rows == 9 and kept.column("url")[0].as_py() == "https://img.example/cat.jpg?size=2"
    assert report.column("reason").to_pylist() == ["url"] + ["domain"] * 5 + ["phash"]
    assert report.column("row").to_pylist() == [0, 2, 3, 4, 5, 8, 11]


def test_international_hosts_compare_in_idna():
    removed = Removed([], domains=["*.bücher.example"])
    assert removed.scopes == [Scope("xn--bcher-kva.example", True, "")]
    table = pa.table(
        {"url": ["https://www.Bücher.example/1", "https://www.xn--bcher-kva.example/2", "https://a.b/"]}
    )
    assert list(removed.check(table).reason) == [2, 2, 0]


def test_the_nearest_removal_is_named_and_integer_hashes_work():
    removed = Removed(
        [
            {"id": "rm_far", "url": None, "phash": f"{flipped(CODE, [1, 2, 3, 4]):016x}", "pdq": None},
            {"id": "rm_near", "url": None, "phash": f"{flipped(CODE, [1]):016x}", "pdq": None},
        ]
    )
    signed = np.array([CODE], dtype=np.uint64).view(np.int64)  # the registry's signed form
    verdict = removed.check(pa.table({"phash": pa.array(signed)}))
    assert verdict.removal[0] == "rm_near" and verdict.distance[0] == 1
    codes, known = column_codes(pa.chunked_array([pa.array([f"{CODE:016X}", None, "xyz"])]))
    assert list(known) == [True, False, False] and int(codes[0]) == CODE


def test_it_travels_to_other_processes_and_filters_pandas_frames():
    removed = Removed(removals(), domains=["*.artist.example"])
    frame = pd.DataFrame(
        {
            "url": ["https://img.example/cat.jpg", "https://ok.example/1", "https://x.artist.example/"],
            "phash": [None, f"{flipped(CODE, [5]):016x}", None],
            "caption": ["a", "b", "c"],
        }
    )
    copy = pickle.loads(pickle.dumps(removed))  # noqa: S301 (our own bytes, as Dask ships them)
    assert "_index" not in copy.__dict__  # rebuilt where it is used, not shipped
    assert copy.filter_frame(frame)["caption"].tolist() == []  # by URL, by pHash, by domain
    assert copy.filter_frame(frame.iloc[:0]).empty
    kept = copy.filter_frame(frame, phash_column=None)
    assert kept["caption"].tolist() == ["b"]


def test_bad_scopes_and_radii_are_refused_clearly():
    with pytest.raises(ValueError, match="not a domain scope"):
        Scope.parse("https://artist.example")
    with pytest.raises(ValueError, match="not a domain scope"):
        Scope.parse("*.")
    with pytest.raises(ValueError, match="not a domain scope"):
        Scope.parse("two words.example")
    with pytest.raises(ValueError, match="radius"):
        Removed([], radius=65)


def test_other_options_reuse_the_removals_read():
    removed = Removed(removals())
    near = pa.table({"url": ["https://x.artist.example/"], "phash": [f"{flipped(CODE, [1, 2, 3, 4]):016x}"]})
    assert list(removed.check(near).reason) == [3]
    narrower = removed.with_options(domains=["*.artist.example"], radius=2)
    assert narrower.urls is removed.urls and narrower.radius == 2
    assert list(narrower.check(near).reason) == [2]
    assert list(narrower.with_options().check(near).reason) == [0]
    with pytest.raises(ValueError, match="radius"):
        removed.with_options(radius=-1)
