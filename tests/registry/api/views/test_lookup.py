"""/lookup/: removed URLs and removals near pHashes, registry-wide; bad hashes and oversized batches."""

from __future__ import annotations

from tests.helpers import CAT_PHASH as PHASH
from tests.helpers import assert_error, removal_with_hash


def test_lookup_answers_urls_and_hashes_within_the_radius(api, maintainer, other_maintainer):
    removal = removal_with_hash(other_maintainer)  # the registry is shared: any key may look up
    near = f"{int(PHASH, 16) ^ 0b111:016x}"  # 3 bits away
    far = f"{int(PHASH, 16) ^ 0xFFFF:016x}"  # 16 bits away
    body = api.post(
        "/api/v1/lookup/",
        {"urls": ["https://img.example/cat.jpg", "https://img.example/dog.jpg"], "phashes": [near, far]},
        format="json",
    ).json()
    assert body["urls"] == {"https://img.example/cat.jpg": True, "https://img.example/dog.jpg": False}
    assert body["phashes"] == {near: [removal.public_id], far: []}


def test_lookup_explains_bad_hashes_and_oversized_batches(api):
    error = assert_error(api.post("/api/v1/lookup", {"phashes": ["zz"]}, format="json"), 400, "invalid_hash")
    assert "phashes[0]" in error["message"]
    urls = [f"https://i.example/{i}" for i in range(9_999)]
    assert_error(
        api.post("/api/v1/lookup/", {"urls": urls, "phashes": [PHASH, PHASH]}, format="json"),
        413,
        "too_many_entries",
    )


def test_the_v1_api_says_json_when_sent_something_else(api):
    error = assert_error(
        api.post("/api/v1/lookup/", data="urls=x", content_type="text/plain"), 415, "unsupported_media_type"
    )
    assert "application/json" in error["message"]


def test_lookup_answers_removed_for_any_url_under_a_domain_opt_out(api, dataset):
    from registry import services
    from registry.hosts import Scope

    services.domain_optouts_record(
        source_ref="RR-2026-000042",
        reason="copyright",
        scopes=[Scope("artist.example", include_subdomains=True), Scope("site.example", path_prefix="/art/")],
    )
    urls = [
        "https://cdn.artist.example/never-registered.jpg",  # held by no data set
        "https://ARTIST.example.:443/x.png",
        "https://notartist.example/x.png",
        "https://artist.example.evil.net/x.png",
        "https://site.example/art/a.jpg",
        "https://site.example/artwork/a.jpg",
    ]
    body = api.post("/api/v1/lookup/", {"urls": urls}, format="json").json()
    assert body["urls"] == dict(zip(urls, [True, True, False, False, True, False], strict=True))
    assert body["domains"] == {
        urls[0]: "*.artist.example",
        urls[1]: "*.artist.example",
        urls[4]: "site.example/art/",
    }
    services.domain_optouts_revoke(source_ref="RR-2026-000042")
    again = api.post("/api/v1/lookup/", {"urls": urls}, format="json").json()
    assert not any(again["urls"].values()) and again["domains"] == {}


def test_lookup_says_who_asked_for_each_removed_url(api, dataset):
    from registry import services
    from registry.hosts import Scope

    services.items_upsert(
        dataset=dataset,
        rows=[
            {"external_id": "p", "url": "https://i.example/p.jpg"},
            {"external_id": "a", "url": "https://a.example/a.jpg"},
        ],
    )
    for ref, source, partner in (("PF-1", "partner", "ArtPlatform"), ("RR-2026-000001", "artist", "")):
        services.removals_record(
            source_ref=ref,
            reason="copyright",
            entries=[services.RemovalEntry(dataset=dataset, item=dataset.items.get(external_id="p"))],
            source=source,
            partner=partner,
        )
    services.domain_optouts_record(
        source_ref="PF-2", reason="copyright", scopes=[Scope("a.example")], source="partner", partner="Museum"
    )
    urls = ["https://i.example/p.jpg", "https://a.example/unregistered.jpg", "https://nothing.example/x.jpg"]
    body = api.post("/api/v1/lookup/", {"urls": urls}, format="json").json()
    assert body["urls"] == {urls[0]: True, urls[1]: True, urls[2]: False}
    assert body["sources"] == {
        urls[0]: [{"source": "artist", "partner": ""}, {"source": "partner", "partner": "ArtPlatform"}],
        urls[1]: [{"source": "partner", "partner": "Museum"}],
    }


def test_a_plainly_valid_batch_is_read_as_the_serializer_reads_it():
    """The fast path (plain_texts) gives the serializer's values, or defers to it for its error."""
    from registry.api.serializers import LookupSerializer
    from registry.api.views.lookup import plain_texts

    bodies = [
        {"urls": ["https://i.example/a.jpg", "  https://i.example/b.jpg\t"]},
        {"urls": []},
        {},
        {"phashes": ["b15fe6465121175e"]},
        {"urls": ["https://i.example/\u00e9.jpg"], "other": 1},
    ]
    for body in bodies:
        serializer = LookupSerializer(data=body)
        assert serializer.is_valid(), body
        assert plain_texts(body, "urls", max_length=4096) == serializer.validated_data["urls"]
        assert plain_texts(body, "phashes", max_length=64) == serializer.validated_data["phashes"]
    refused = [
        {"urls": "https://i.example/a.jpg"},
        {"urls": ["   "]},
        {"urls": [""]},
        {"urls": [None]},
        {"urls": None},
        {"urls": ["x" * 4097]},
        {"urls": ["https://i.example/\x00"]},
        {"urls": ["https://i.example/\ud800"]},
        {"urls": [{"url": "x"}]},
        {"urls": [True]},
    ]
    for body in refused:
        assert plain_texts(body, "urls", max_length=4096) is None, body
        assert not LookupSerializer(data=body).is_valid(), body
    # A number is text to the serializer: the fast path leaves it to it, which accepts it.
    assert plain_texts({"urls": [42]}, "urls", max_length=4096) is None
    assert LookupSerializer(data={"urls": [42]}).is_valid()
    assert plain_texts([], "urls", max_length=4096) is None


def test_lookup_refuses_bad_entries_as_before_and_answers_numbers_and_padded_urls(api, dataset):
    from registry import services

    services.items_upsert(dataset=dataset, rows=[{"external_id": "1", "url": "https://i.example/1.jpg"}])
    services.removals_record(
        source_ref="RR-2026-000001",
        reason="copyright",
        entries=[services.RemovalEntry(dataset=dataset, item=dataset.items.get())],
    )
    for bad in (["   "], ["https://i.example/\x00"], ["x" * 4097], "https://i.example/1.jpg"):
        response = api.post("/api/v1/lookup/", {"urls": bad}, format="json")
        assert response.status_code == 400, bad
        assert "urls" in str(response.json()), bad
    body = api.post("/api/v1/lookup/", {"urls": [" https://i.example/1.jpg ", 7]}, format="json").json()
    assert body["urls"] == {"https://i.example/1.jpg": True, "7": False}
    assert body["sources"] == {"https://i.example/1.jpg": [{"source": "artist", "partner": ""}]}


def test_a_revoked_removal_stops_answering_the_moment_it_commits(api, maintainer, dataset):
    from rest_framework.test import APIClient

    from registry import services
    from registry.models import Removal, RemovalState

    services.items_upsert(dataset=dataset, rows=[{"external_id": "1", "url": "https://i.example/1.jpg"}])
    services.removals_record(
        source_ref="RR-2026-000001",
        reason="copyright",
        entries=[services.RemovalEntry(dataset=dataset, item=dataset.items.get())],
    )
    compat = APIClient()
    compat.credentials(HTTP_AUTHORIZATION=f"API {maintainer.key}")
    urls = ["https://i.example/1.jpg", "https://i.example/2.jpg"]

    def v2() -> list[bool]:
        answer = compat.post("/api/v2/query/urls/", data="\n".join(urls), content_type="text/plain")
        return [entry["optOut"] for entry in answer.json()["urls"]]

    assert api.post("/api/v1/lookup/", {"urls": urls}, format="json").json()["urls"] == {
        urls[0]: True,
        urls[1]: False,
    }
    assert v2() == [True, False]
    Removal.objects.update(state=RemovalState.REVOKED)
    assert api.post("/api/v1/lookup/", {"urls": urls}, format="json").json() == {
        "urls": {urls[0]: False, urls[1]: False},
        "phashes": {},
        "domains": {},
        "sources": {},
        "licences": {},
        "preferences": {url: {"train_ai": "unknown", "search": "unknown"} for url in urls},
        "domain_rules": {},
    }
    assert v2() == [False, False]
