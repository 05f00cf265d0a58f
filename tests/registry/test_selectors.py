"""registry.selectors: what each shared read returns, and what it leaves out (other organisations,
deleted endpoints, revoked keys and removals)."""

from __future__ import annotations

from django.core.cache import cache
from hypothesis import given
from hypothesis import strategies as st

from registry import selectors, services
from registry.hashing import hex_to_code
from registry.models import Removal, RemovalState
from tests.helpers import CAT_PHASH, record_removals, removal_with_hash


def revoke(*removals: Removal) -> None:
    Removal.objects.filter(pk__in=[r.pk for r in removals]).update(state=RemovalState.REVOKED)


def test_data_sets_endpoints_and_keys_are_the_maintainers_own_and_live(maintainer, other_maintainer, dataset):
    own, theirs = maintainer.maintainer, other_maintainer.maintainer
    services.dataset_create(maintainer=theirs, slug="t", name="T")
    assert list(selectors.datasets_of(own)) == [dataset]

    kept, _ = services.webhook_endpoint_create(
        maintainer=own, url="https://h.example/1", event_types=["removal.approved"]
    )
    gone, _ = services.webhook_endpoint_create(
        maintainer=own, url="https://h.example/2", event_types=["removal.approved"]
    )
    services.webhook_endpoint_create(
        maintainer=theirs, url="https://h.example/3", event_types=["removal.approved"]
    )
    services.webhook_endpoint_delete(endpoint=gone)
    assert list(selectors.endpoints_of(own)) == [kept]

    [first] = own.api_keys.all()
    second, _ = services.api_key_create(maintainer=own)
    services.api_key_revoke(key=first)
    assert list(selectors.active_keys_of(own)) == [second]


def test_removals_for_a_source_span_data_sets(maintainer, dataset):
    other = services.dataset_create(maintainer=maintainer.maintainer, slug="e", name="E")
    mine = record_removals(dataset, 2, ref="RR-1") + record_removals(other, 1, ref="RR-1")
    record_removals(dataset, 1, ref="RR-2")
    found = list(selectors.removals_for_source("RR-1").order_by("pk"))
    assert found == mine and {r.dataset.slug for r in found} == {"d", "e"}


def test_removed_urls_are_the_exact_live_ones_anywhere(maintainer, other_maintainer):
    theirs = removal_with_hash(other_maintainer)  # https://img.example/cat.jpg
    urls = ["https://img.example/cat.jpg", "https://img.example/CAT.jpg", "https://img.example/dog.jpg"]
    assert selectors.removed_urls(urls) == {"https://img.example/cat.jpg"}
    assert selectors.removed_urls([]) == set()
    revoke(theirs)
    assert selectors.removed_urls(urls) == set()


def test_removed_urls_reads_in_slices(dataset):
    removals = record_removals(dataset, 3)
    urls = [f"https://i.example/nothing/{i}" for i in range(4500)] + [r.url for r in removals]
    assert selectors.removed_urls(urls) == {r.url for r in removals}


def test_an_items_live_removal_is_its_own_or_a_bare_one_of_its_hash(dataset):
    services.items_upsert(
        dataset=dataset,
        rows=[
            {"external_id": "a", "url": "https://i.example/a", "phash": "00000000000000ff"},
            {"external_id": "b", "url": "https://i.example/b", "phash": "0000000000000f0f"},
            {"external_id": "c", "url": "https://i.example/c"},
        ],
    )
    a, b, c = dataset.items.order_by("external_id")
    [own] = services.removals_record(
        source_ref="RR-1", reason="copyright", entries=[services.RemovalEntry(dataset=dataset, item=a)]
    )
    [bare] = services.removals_record(
        source_ref="RR-2",
        reason="copyright",
        entries=[services.RemovalEntry(dataset=dataset, phash=hex_to_code("0000000000000f0f"))],
    )
    assert selectors.live_removals_of_items([a, b, c]) == {a.pk: own, b.pk: bare}
    assert selectors.live_removals_of_items([]) == {}
    revoke(own)
    assert selectors.live_removals_of_items([a, b]) == {b.pk: bare}


def test_removals_near_a_code_are_listed_by_public_id(maintainer):
    removal = removal_with_hash(maintainer)
    code = hex_to_code(CAT_PHASH)
    near = selectors.removals_near_codes([code, code ^ 0b11, code ^ 0xFFFF, code], radius=4)
    assert near == {code: [removal.public_id], code ^ 0b11: [removal.public_id], code ^ 0xFFFF: []}
    assert selectors.removals_near_codes([], radius=4) == {}


def test_the_export_is_the_maintainers_removals_in_order_optionally_of_one_data_set(
    maintainer, other_maintainer, dataset
):
    other = services.dataset_create(maintainer=maintainer.maintainer, slug="e", name="E")
    first = record_removals(dataset, 2, ref="RR-1")
    second = record_removals(other, 1, ref="RR-2")
    removal_with_hash(other_maintainer, slug="theirs")
    assert list(selectors.removals_for_export(maintainer.maintainer)) == first + second
    assert list(selectors.removals_for_export(maintainer.maintainer, dataset=other)) == second


def test_public_figures_count_items_and_live_removals_and_are_cached(maintainer, dataset):
    removals = record_removals(dataset, 3)
    revoke(removals[0])
    services.removals_acknowledge(dataset=dataset, ids=[removals[1].public_id])
    cache.clear()
    figures = selectors.public_figures()
    assert figures == {
        "datasets": [{"name": "D", "maintainer": maintainer.maintainer.name, "item_count": 3}],
        "totals": {"recorded": 2, "acknowledged": 1},
    }
    record_removals(dataset, 1, ref="RR-9")
    assert selectors.public_figures() == figures  # cached for FIGURES_CACHE_SECONDS
    cache.clear()
    assert selectors.public_figures()["totals"]["recorded"] == 3


def test_the_rule_of_a_url_is_the_one_on_its_shortest_suffix_then_the_oldest(db):
    """optouts_covering gathers each host's rules once for a whole batch: the rule each URL gets
    is still the oldest on the shortest suffix of its host that covers its path."""
    from registry.hosts import Scope, url_host_path

    def record(scope: Scope, ref: str) -> None:
        services.domain_optouts_record(source_ref=ref, reason="copyright", scopes=[scope])

    record(Scope("img.artist.example", path_prefix="/art/"), "RR-2026-000101")  # the oldest
    record(Scope("artist.example", include_subdomains=True, path_prefix="/art/"), "RR-2026-000102")
    record(Scope("img.artist.example"), "RR-2026-000103")
    urls = [
        "https://img.artist.example/art/1.jpg",
        "https://IMG.Artist.Example/art/2.jpg",  # the same host key, written otherwise
        "https://img.artist.example/other/3.jpg",
        "https://cdn.artist.example/other/4.jpg",
        "https://img.artist.example./art/5.jpg?x=1",
    ]
    found = selectors.optouts_covering(urls)
    refs = {url: rule.source_ref for url, rule in found.items()}
    assert refs == {
        urls[0]: "RR-2026-000102",  # artist.example is the shorter suffix of img.artist.example
        urls[1]: "RR-2026-000102",
        urls[2]: "RR-2026-000103",  # not under /art/: the host's own rule
        urls[4]: "RR-2026-000102",
    }
    assert [url_host_path(u)[0] for u in urls[:2]] == ["example.artist.img.", "example.artist.img."]


_may_be_under_parts = st.lists(
    st.sampled_from(
        ["https://", "img.", "Artist.", "artist.example", "ARTIST.EXAMPLE", "other.example", "/", "%",
         "\t", "\r", "\n", "é", "x", "artist.exampleartist.example"]
    ),
    max_size=6,
).map("".join)  # fmt: skip


@given(urls=st.lists(_may_be_under_parts, max_size=25))
def test_the_urls_that_may_be_under_a_host_are_those_whose_text_holds_it(urls):
    """may_be_under finds the hosts in the batch's joined text: the same URLs as looking in
    each URL alone (any case; escapes, tabs, line breaks and non-ASCII always kept), each once,
    or the whole batch in its order when the hosts stand in it as often as there are URLs."""
    hosts = {"artist.example", "b.example"}
    alone = {
        u for u in urls if not u.isascii() or any(n in u.lower() for n in (*hosts, "%", "\t", "\r", "\n"))
    }
    found = selectors.may_be_under(urls, hosts)
    assert len(found) == len(set(found))
    assert set(found) == alone or found == list(dict.fromkeys(urls))
    assert alone <= set(found)


def test_a_batch_on_the_hosts_is_given_back_whole_and_one_mostly_elsewhere_exactly():
    under = [f"https://img.artist.example/{n}.jpg" for n in range(9)]
    elsewhere = [f"https://other.example/{n}.jpg" for n in range(9)]
    twice = "https://img.artist.example/artist.example/x.jpg"  # the host as often as the URLs
    mostly_under = [*under, elsewhere[0], twice, under[0]]
    assert selectors.may_be_under(mostly_under, {"artist.example"}) == [*under, elsewhere[0], twice]
    assert selectors.may_be_under([*under, elsewhere[0]], {"artist.example"}) == under  # 9 of 10
    mostly_elsewhere = [*elsewhere, under[3], under[5]]
    assert selectors.may_be_under(mostly_elsewhere, {"artist.example"}) == [under[3], under[5]]
    assert selectors.may_be_under(elsewhere, {"artist.example"}) == []
