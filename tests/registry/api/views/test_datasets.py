"""Data sets and their index: create, list, upsert items with bad rows rejected one by one;
another organisation's data sets are not there."""

from __future__ import annotations

from registry import services
from registry.hashing import code_to_hex, hex_to_code
from registry.models import DatasetItem
from tests.helpers import assert_error

PHASH = "b15fe6465121175e"


def test_it_creates_and_lists_data_sets(api):
    response = api.post(
        "/api/v1/datasets/",
        {"slug": "laion-mini", "name": "LAION mini", "homepage": "https://laion.example/"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["slug"] == "laion-mini"
    listed = api.get("/api/v1/datasets/").json()
    assert [d["slug"] for d in listed["results"]] == ["laion-mini"]


def test_it_refuses_a_duplicate_slug_with_409(api):
    api.post("/api/v1/datasets/", {"slug": "a", "name": "A"}, format="json")
    error = assert_error(
        api.post("/api/v1/datasets/", {"slug": "a", "name": "B"}, format="json"), 409, "slug_taken"
    )
    assert "'a'" in error["message"]


def test_it_explains_a_bad_slug(api):
    error = assert_error(
        api.post("/api/v1/datasets/", {"slug": "not a slug!", "name": "A"}, format="json"),
        400,
        "invalid_request",
    )
    assert error["message"].startswith("slug:")
    assert "slug" in error["details"]


def test_it_allows_the_same_slug_in_two_organisations(api, other_maintainer):
    assert api.post("/api/v1/datasets/", {"slug": "a", "name": "A"}, format="json").status_code == 201
    other = other_maintainer.client()
    assert other.post("/api/v1/datasets/", {"slug": "a", "name": "A"}, format="json").status_code == 201


def test_it_upserts_items_and_rejects_bad_rows_alone(api):
    api.post("/api/v1/datasets/", {"slug": "d", "name": "D"}, format="json")
    rows = [
        {"external_id": "1", "url": "https://img.example/1.jpg", "phash": PHASH},
        {"external_id": "2", "url": "https://img.example/2.jpg", "phash": "XYZ"},
        {"external_id": "", "url": "https://img.example/3.jpg"},
        {"external_id": "4", "url": "ftp://img.example/4.jpg"},
        {"external_id": "5", "url": "https://img.example/5.jpg", "pdq": "ab" * 31},
        "not an object",
        {"external_id": "1", "url": "https://img.example/dup.jpg"},
        {
            "external_id": "8",
            "url": "https://img.example/8.jpg",
            "dhash": "00000000000000ff",
            "pdq": "0f" * 32,
        },
    ]
    response = api.post("/api/v1/datasets/d/items/", {"items": rows}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["created"] == 2 and body["updated"] == 0
    rejected = {r["index"]: r["error"] for r in body["rejected"]}
    assert set(rejected) == {1, 2, 3, 4, 5, 6}
    assert "phash" in rejected[1] and "16" in rejected[1]
    assert "external_id" in rejected[2]
    assert "url" in rejected[3]
    assert "pdq" in rejected[4]
    assert "earlier in this batch" in rejected[6]
    item = DatasetItem.objects.get(external_id="1")
    assert code_to_hex(item.phash) == PHASH
    assert bytes(DatasetItem.objects.get(external_id="8").pdq) == bytes.fromhex("0f" * 32)

    again = api.post(
        "/api/v1/datasets/d/items",
        {"items": [{"external_id": "1", "url": "https://img.example/moved.jpg", "phash": None}]},
        format="json",
    ).json()
    assert again == {"created": 0, "updated": 1, "rejected": []}
    item.refresh_from_db()
    assert item.url == "https://img.example/moved.jpg" and item.phash is None


def test_it_round_trips_hashes_with_the_high_bit_set(api):
    api.post("/api/v1/datasets/", {"slug": "d", "name": "D"}, format="json")
    api.post(
        "/api/v1/datasets/d/items/",
        {"items": [{"external_id": "x", "url": "https://i.example/x", "phash": "ffffffffffffffff"}]},
        format="json",
    )
    item = DatasetItem.objects.get()
    assert item.phash == -1 == hex_to_code("ffffffffffffffff")
    assert code_to_hex(item.phash) == "ffffffffffffffff"


def test_it_refuses_more_than_ten_thousand_items_with_413(api):
    api.post("/api/v1/datasets/", {"slug": "d", "name": "D"}, format="json")
    rows = [{"external_id": str(i), "url": f"https://i.example/{i}"} for i in range(10_001)]
    error = assert_error(
        api.post("/api/v1/datasets/d/items/", {"items": rows}, format="json"), 413, "too_many_items"
    )
    assert error["details"] == {"max": 10_000, "received": 10_001}
    assert DatasetItem.objects.count() == 0


def test_it_explains_a_body_without_items(api):
    api.post("/api/v1/datasets/", {"slug": "d", "name": "D"}, format="json")
    assert_error(api.post("/api/v1/datasets/d/items/", {"rows": []}, format="json"), 400, "invalid_request")
    assert_error(
        api.post("/api/v1/datasets/d/items/", {"items": "nope"}, format="json"), 400, "invalid_request"
    )


def test_it_hides_other_organisations_data_sets(maintainer, other_maintainer):
    services.dataset_create(maintainer=other_maintainer.maintainer, slug="theirs", name="Theirs")
    client = maintainer.client()
    assert client.get("/api/v1/datasets/").json()["results"] == []
    assert_error(client.get("/api/v1/datasets/theirs/"), 404, "not_found")
    assert_error(client.get("/api/v1/datasets/theirs/removals/"), 404, "not_found")
    assert_error(
        client.post("/api/v1/datasets/theirs/items/", {"items": []}, format="json"), 404, "not_found"
    )
    assert_error(
        client.post("/api/v1/datasets/theirs/removals/ack/", {"ids": ["rm_x"]}, format="json"),
        404,
        "not_found",
    )
