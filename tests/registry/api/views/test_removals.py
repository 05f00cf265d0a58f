"""The removals feed (cursor, nothing missed when polling) and acknowledgements."""

from __future__ import annotations

from registry import services
from registry.models import Removal, RemovalState
from tests.helpers import assert_error, record_removals


def test_it_pages_the_feed_and_a_poller_misses_nothing(api, maintainer):
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    record_removals(dataset, 5)
    seen: list[str] = []
    pages = []
    cursor = None
    while True:
        url = "/api/v1/datasets/d/removals/?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(url).json()
        pages.append(page)
        seen += [r["id"] for r in page["results"]]
        if page["next"] is None:
            break
        cursor = page["next"]
    assert len(seen) == 5 == len(set(seen))
    assert seen == list(Removal.objects.order_by("pk").values_list("public_id", flat=True))
    # Three pages (2, 2, 1): the last one says so with next=null; no empty page is needed.
    assert [len(p["results"]) for p in pages] == [2, 2, 1]
    assert pages[-1]["next"] is None

    # Removals recorded later appear after the last `poll` cursor the poller kept, and only they.
    record_removals(dataset, 2, ref="RR-2026-000002")
    later = api.get(f"/api/v1/datasets/d/removals/?cursor={pages[-1]['poll']}").json()
    assert [r["request"] for r in later["results"]] == ["RR-2026-000002"] * 2
    assert later["next"] is None
    # Nothing new: an empty page that keeps the poller's place.
    again = api.get(f"/api/v1/datasets/d/removals/?cursor={later['poll']}").json()
    assert again["results"] == [] and again["next"] is None
    assert api.get(f"/api/v1/datasets/d/removals/?cursor={again['poll']}").json()["results"] == []
    # A poller that kept the last non-null `next` instead misses nothing either (it sees the last page again).
    from_next = api.get(f"/api/v1/datasets/d/removals/?cursor={cursor}").json()
    assert [r["request"] for r in from_next["results"]][-2:] == ["RR-2026-000002"] * 2


def test_it_ends_every_list_with_next_null_at_an_exact_page_boundary(api, maintainer):
    for n in range(4):
        services.dataset_create(maintainer=maintainer.maintainer, slug=f"d{n}", name=f"D{n}")
    first = api.get("/api/v1/datasets/?limit=2").json()
    assert len(first["results"]) == 2 and first["next"]
    second = api.get(f"/api/v1/datasets/?limit=2&cursor={first['next']}").json()
    assert [d["slug"] for d in second["results"]] == ["d2", "d3"]
    assert second["next"] is None
    assert api.get("/api/v1/datasets/?limit=4").json()["next"] is None


def test_it_shows_the_removal_object_of_the_contract(api, maintainer):
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    [removal] = record_removals(dataset, 1)
    [row] = api.get("/api/v1/datasets/d/removals").json()["results"]
    assert set(row) == {
        "id",
        "dataset",
        "external_id",
        "url",
        "phash",
        "pdq",
        "reason",
        "request",
        "approved_at",
        "state",
        "acknowledged_at",
        "source",
        "partner",
        "revoked_at",
        "revoked_reason",
        "train_ai",
        "search",
    }
    assert (row["source"], row["partner"]) == ("artist", "")
    assert (row["train_ai"], row["search"]) == ("disallowed", "unknown")
    assert row["id"].startswith("rm_") and row["id"] == removal.public_id
    assert row["dataset"] == "d" and row["state"] == "pending" and row["acknowledged_at"] is None
    assert row["approved_at"].endswith("Z")


def test_it_explains_a_bad_cursor_and_limit(api, maintainer):
    services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    assert_error(api.get("/api/v1/datasets/d/removals/?cursor=garbage!"), 400, "invalid_cursor")
    assert_error(api.get("/api/v1/datasets/d/removals/?limit=0"), 400, "invalid_limit")
    assert_error(api.get("/api/v1/datasets/d/removals/?limit=1001"), 400, "invalid_limit")
    assert_error(api.get("/api/v1/datasets/d/removals/?limit=ten"), 400, "invalid_limit")


def test_it_acknowledges_idempotently_and_lists_unknown_ids(api, maintainer, other_maintainer):
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    removals = record_removals(dataset, 2)
    theirs = services.dataset_create(maintainer=other_maintainer.maintainer, slug="t", name="T")
    [their_removal] = record_removals(theirs, 1, ref="RR-2026-000009")
    ids = [r.public_id for r in removals]

    body = api.post(
        "/api/v1/datasets/d/removals/ack/",
        {"ids": [*ids, "rm_unknown", their_removal.public_id]},
        format="json",
    ).json()
    assert body["acknowledged"] == 2
    assert body["unknown"] == ["rm_unknown", their_removal.public_id]
    assert set(Removal.objects.filter(dataset=dataset).values_list("state", flat=True)) == {
        RemovalState.ACKNOWLEDGED
    }
    their_removal.refresh_from_db()
    assert their_removal.state == RemovalState.PENDING

    first_time = Removal.objects.get(public_id=ids[0]).acknowledged_at
    again = api.post("/api/v1/datasets/d/removals/ack", {"ids": ids}, format="json").json()
    assert again == {"acknowledged": 2, "unknown": []}
    assert Removal.objects.get(public_id=ids[0]).acknowledged_at == first_time


def test_it_explains_a_bad_ack_body(api, maintainer):
    services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    assert_error(
        api.post("/api/v1/datasets/d/removals/ack/", {"ids": []}, format="json"), 400, "invalid_request"
    )
    assert_error(
        api.post("/api/v1/datasets/d/removals/ack/", {"ids": "rm_x"}, format="json"), 400, "invalid_request"
    )
    assert_error(api.post("/api/v1/datasets/d/removals/ack/", [1, 2], format="json"), 400, "invalid_request")


def test_the_feed_names_a_partners_removal_and_its_partner(api, maintainer):
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    services.items_upsert(dataset=dataset, rows=[{"external_id": "p", "url": "https://i.example/p.jpg"}])
    services.removals_record(
        source_ref="PF-000001",
        reason="copyright",
        entries=[services.RemovalEntry(dataset=dataset, item=dataset.items.get())],
        source="partner",
        partner="ArtPlatform",
    )
    [row] = api.get("/api/v1/datasets/d/removals/").json()["results"]
    assert (row["source"], row["partner"], row["request"]) == ("partner", "ArtPlatform", "PF-000001")


def test_it_counts_what_was_recorded_on_the_last_page_only(api, maintainer):
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    other = services.dataset_create(maintainer=maintainer.maintainer, slug="e", name="E")
    record_removals(dataset, 3)
    record_removals(other, 2, ref="RR-2026-000009")  # another data set's removals are not counted
    first = api.get("/api/v1/datasets/d/removals/?limit=2").json()
    assert first["next"] and first["recorded"] is None
    last = api.get(f"/api/v1/datasets/d/removals/?limit=2&cursor={first['next']}").json()
    assert last["next"] is None and last["recorded"] == 3
    # Revoked removals stay rows of the feed, so they count; the count stops at the page's end.
    Removal.objects.filter(dataset=dataset).update(state=RemovalState.REVOKED)
    record_removals(dataset, 1, ref="RR-2026-000002")
    later = api.get("/api/v1/datasets/d/removals/?limit=2&cursor=" + last["poll"]).json()
    assert [r["request"] for r in later["results"]] == ["RR-2026-000002"] and later["recorded"] == 4
