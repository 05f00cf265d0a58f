"""Domain opt-outs: recording a rule removes every registered item under it (set-based, events of
at most 500), idempotently; items written later (COPY import, portable batch, upsert) are matched
at write time; a revoked rule stops matching."""

from __future__ import annotations

import io

from registry import imports, services
from registry.hosts import Scope
from registry.models import DatasetItem, DomainOptOut, Removal, WebhookDelivery, WebhookEvent
from tests.helpers import import_run_now

REF = "RR-2026-000042"


def _items(dataset, urls: dict[str, str]) -> None:
    result = services.items_upsert(
        dataset=dataset, rows=[{"external_id": e, "url": u} for e, u in urls.items()]
    )
    assert not result.rejected, result.rejected


def _removed(ref: str = REF) -> set[tuple[str, str]]:
    return set(Removal.objects.filter(source_ref=ref).values_list("dataset__slug", "external_id"))


def test_recording_removes_every_item_under_the_scope_in_every_data_set(
    maintainer, other_maintainer, dataset
):
    theirs = services.dataset_create(maintainer=other_maintainer.maintainer, slug="t", name="T")
    _items(
        dataset,
        {
            "a": "https://artist.example/a.jpg",
            "b": "https://www.artist.example/b.jpg",
            "c": "https://notartist.example/c.jpg",
            "d": "https://artist.example.evil.net/d.jpg",
            "e": "https://cdn.artist.example:8443/art/e.jpg",
        },
    )
    _items(theirs, {"x": "https://ARTIST.example./x.jpg", "y": "https://other.example/y.jpg"})
    done = services.domain_optouts_record(
        source_ref=REF, reason="copyright", scopes=[Scope("artist.example", include_subdomains=True)]
    )
    assert _removed() == {("d", "a"), ("d", "b"), ("d", "e"), ("t", "x")}
    assert done.removals == 4 and done.removals_by_dataset == {dataset.pk: 3, theirs.pk: 1}
    removal = Removal.objects.get(source_ref=REF, external_id="e")
    assert removal.url == "https://cdn.artist.example:8443/art/e.jpg" and removal.item is not None
    assert removal.public_id.startswith("rm_") and removal.state == "pending"
    (rule,) = DomainOptOut.objects.all()
    assert (rule.host, rule.host_key, rule.include_subdomains) == ("artist.example", "example.artist.", True)


def test_recording_again_is_idempotent_and_a_matched_item_is_not_removed_twice(dataset):
    _items(dataset, {"a": "https://artist.example/a.jpg", "b": "https://artist.example/b.jpg"})
    item = DatasetItem.objects.get(external_id="a")
    services.removals_record(
        source_ref=REF, reason="copyright", entries=[services.RemovalEntry(dataset=dataset, item=item)]
    )
    scope = Scope("artist.example")
    first = services.domain_optouts_record(source_ref=REF, reason="copyright", scopes=[scope, scope])
    again = services.domain_optouts_record(source_ref=REF, reason="copyright", scopes=[scope])
    assert (first.removals, again.removals) == (1, 0)
    assert Removal.objects.filter(source_ref=REF).count() == 2
    assert DomainOptOut.objects.count() == 1


def test_a_path_prefix_covers_what_is_under_it_only(dataset):
    _items(
        dataset,
        {
            "in": "https://artist.example/art/x.jpg",
            "deep": "https://artist.example/art/2024/y.jpg",
            "near": "https://artist.example/artwork/z.jpg",
            "case": "https://artist.example/Art/w.jpg",
            "sub": "https://www.artist.example/art/v.jpg",
        },
    )
    services.domain_optouts_record(
        source_ref=REF, reason="copyright", scopes=[Scope("artist.example", path_prefix="/art/")]
    )
    assert _removed() == {("d", "in"), ("d", "deep")}


def test_webhook_events_hold_at_most_500_removals(dataset, endpoint):
    _items(dataset, {f"i{n}": f"https://artist.example/{n}.jpg" for n in range(1201)})
    done = services.domain_optouts_record(
        source_ref=REF, reason="copyright", scopes=[Scope("artist.example")]
    )
    assert done.removals == 1201
    sizes = sorted(event.removals.count() for event in WebhookEvent.objects.all())
    assert sizes == [201, 500, 500]
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 3
    payload = WebhookEvent.objects.order_by("pk").first().payload
    assert payload["data"]["dataset"] == "d" and payload["data"]["removals"][0]["request"] == REF


def test_items_imported_later_are_matched_at_write_time_through_copy(dataset):
    services.domain_optouts_record(
        source_ref=REF, reason="likeness", scopes=[Scope("artist.example", include_subdomains=True)]
    )
    body = (
        b"external_id,url\n"
        b"n1,https://img.artist.example/n1.jpg\n"
        b"n2,https://elsewhere.example/n2.jpg\n"
        b"n3,https://Artist.Example/n3.jpg\n"
    )
    job = services.import_create(dataset=dataset, upload=io.BytesIO(body), name="later.csv", enqueue=False)
    assert import_run_now(job).status == "succeeded"
    assert _removed() == {("d", "n1"), ("d", "n3")}
    assert set(Removal.objects.filter(source_ref=REF).values_list("reason", flat=True)) == {"likeness"}
    item = DatasetItem.objects.get(external_id="n3")
    assert (item.host, item.path) == ("example.artist.", "/n3.jpg")


def test_items_of_a_portable_batch_are_keyed_and_matched(dataset):
    services.domain_optouts_record(source_ref=REF, reason="copyright", scopes=[Scope("artist.example")])
    rows = [
        {"external_id": "p1", "url": "https://artist.example/p1.jpg", "phash": None, "dhash": None,
         "pdq": None, "pdq_quality": None},
        {"external_id": "p2", "url": "https://www.artist.example/p2.jpg", "phash": None, "dhash": None,
         "pdq": None, "pdq_quality": None},
    ]  # fmt: skip
    imports._write_portable(dataset.pk, rows)
    assert DatasetItem.objects.get(external_id="p1").host == "example.artist."
    created = services.optouts_match_written(dataset_id=dataset.pk, rows=rows)
    assert [r.external_id for r in created] == ["p1"]


def test_upserted_items_are_matched_and_a_revoked_rule_stops_matching(dataset):
    services.domain_optouts_record(source_ref=REF, reason="copyright", scopes=[Scope("artist.example")])
    _items(dataset, {"u1": "https://artist.example/u1.jpg", "u2": "https://x.example/u2.jpg"})
    assert _removed() == {("d", "u1")}
    # An item that moves onto the domain is matched when it is updated.
    _items(dataset, {"u2": "https://artist.example/u2.jpg"})
    assert _removed() == {("d", "u1"), ("d", "u2")}
    assert services.domain_optouts_revoke(source_ref=REF) == 1
    _items(dataset, {"u3": "https://artist.example/u3.jpg"})
    assert _removed() == {("d", "u1"), ("d", "u2")}


def test_writing_items_with_no_rule_costs_no_removal(dataset):
    _items(dataset, {"a": "https://artist.example/a.jpg"})
    assert not Removal.objects.exists()
