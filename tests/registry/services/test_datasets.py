"""registry.services.datasets: creating data sets, cleaning index rows, upserting them by external_id."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from registry import services
from registry.hashing import code_to_hex, pdq_to_hex
from registry.models import Dataset, DatasetItem, url_key
from tests.helpers import broker_queue

PHASH = "b15fe6465121175e"
PDQ = "0f" * 32


def test_a_data_set_is_created_with_its_fields_and_its_slug_is_per_maintainer(maintainer, other_maintainer):
    dataset = services.dataset_create(
        maintainer=maintainer.maintainer, slug="d", name="D", homepage="https://d.example/", description="x"
    )
    stored = Dataset.objects.get(pk=dataset.pk)
    assert (stored.slug, stored.name, stored.homepage, stored.description) == (
        "d",
        "D",
        "https://d.example/",
        "x",
    )
    services.dataset_create(maintainer=other_maintainer.maintainer, slug="d", name="Theirs")
    with pytest.raises(IntegrityError), transaction.atomic():
        services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="Again")


def test_a_clean_row_has_its_hashes_as_integers_and_blanks_as_none():
    cleaned = services.clean_item_row(
        {"external_id": "1", "url": "https://i.example/1.jpg", "phash": PHASH, "dhash": "", "pdq": PDQ}
    )
    assert cleaned["external_id"] == "1" and cleaned["url"] == "https://i.example/1.jpg"
    assert code_to_hex(cleaned["phash"]) == PHASH and cleaned["dhash"] is None
    assert pdq_to_hex(cleaned["pdq"]) == PDQ
    assert services.clean_item_row({"external_id": "2", "url": "http://i.example:8080/?q=1"})["pdq"] is None


@pytest.mark.parametrize(
    ("row", "words"),
    [
        ([1], "must be an object"),
        ({"url": "https://i.example/"}, "external_id is required"),
        ({"external_id": "  ", "url": "https://i.example/"}, "external_id is required"),
        ({"external_id": "x" * 201, "url": "https://i.example/"}, "longer than 200"),
        ({"external_id": "a\x00", "url": "https://i.example/"}, "external_id "),
        ({"external_id": "1"}, "url is required"),
        ({"external_id": "1", "url": "ftp://i.example/x"}, "not a valid http(s) URL"),
        ({"external_id": "1", "url": "https://i.example/a b"}, "not a valid http(s) URL"),
        ({"external_id": "1", "url": "https://i.example/" + "a" * 4096}, "not a valid http(s) URL"),
        ({"external_id": "1", "url": "https://i.example/", "phash": "zz"}, "phash "),
        ({"external_id": "1", "url": "https://i.example/", "dhash": "1234"}, "dhash "),
        ({"external_id": "1", "url": "https://i.example/", "pdq": "00"}, "pdq "),
        ({"external_id": "1", "url": "https://i.example/", "pdq": PDQ, "pdq_quality": 101}, "0 to 100"),
        ({"external_id": "1", "url": "https://i.example/", "pdq": PDQ, "pdq_quality": -1}, "0 to 100"),
        ({"external_id": "1", "url": "https://i.example/", "pdq": PDQ, "pdq_quality": "high"}, "0 to 100"),
        ({"external_id": "1", "url": "https://i.example/", "pdq": PDQ, "pdq_quality": 50.5}, "0 to 100"),
        ({"external_id": "1", "url": "https://i.example/", "pdq": PDQ, "pdq_quality": True}, "0 to 100"),
        ({"external_id": "1", "url": "https://i.example/", "pdq": PDQ, "pdq_quality": 10**400}, "0 to 100"),
        ({"external_id": "1", "url": "https://i.example/", "pdq": PDQ, "pdq_quality": "²"}, "0 to 100"),
        ({"external_id": "1", "url": "https://i.example/", "pdq": PDQ, "pdq_quality": "٣"}, "0 to 100"),
        ({"external_id": "1", "url": "https://i.example/", "pdq_quality": 90}, "with the pdq"),
    ],
)
def test_a_bad_row_is_refused_with_a_message_naming_the_field(row, words):
    with pytest.raises(ValueError) as caught:
        services.clean_item_row(row)
    assert words in str(caught.value)


def test_upsert_creates_then_updates_by_external_id_and_rejects_rows_alone(dataset):
    first = services.items_upsert(
        dataset=dataset,
        rows=[
            {"external_id": "a", "url": "https://i.example/a"},
            {"external_id": "b", "url": "nope"},
            {"external_id": "a", "url": "https://i.example/a-again"},
        ],
    )
    assert (first.created, first.updated) == (1, 0)
    assert first.rejected == [
        {"index": 1, "error": "url 'nope' is not a valid http(s) URL"},
        {"index": 2, "error": "external_id appears earlier in this batch"},
    ]
    item = DatasetItem.objects.get(dataset=dataset, external_id="a")
    second = services.items_upsert(
        dataset=dataset, rows=[{"external_id": "a", "url": "https://i.example/a2", "phash": PHASH}]
    )
    assert (second.created, second.updated, second.rejected) == (0, 1, [])
    item.refresh_from_db()
    assert item.url == "https://i.example/a2" and item.url_key == url_key("https://i.example/a2")
    assert code_to_hex(item.phash) == PHASH and item.updated_at > item.created_at
    assert DatasetItem.objects.count() == 1


def test_upsert_refuses_more_than_a_batch(dataset):
    rows = [
        {"external_id": str(i), "url": f"https://i.example/{i}"}
        for i in range(services.MAX_ITEMS_PER_BATCH + 1)
    ]
    with pytest.raises(ValueError, match="at most 10,000"):
        services.items_upsert(dataset=dataset, rows=rows)
    assert not DatasetItem.objects.exists()


def test_rows_with_a_phash_are_queued_for_rematching_after_commit(
    dataset, django_capture_on_commit_callbacks
):
    with broker_queue("matching") as sent:
        with django_capture_on_commit_callbacks(execute=True):
            services.items_upsert(
                dataset=dataset,
                rows=[
                    {"external_id": "h", "url": "https://i.example/h", "phash": PHASH},
                    {"external_id": "n", "url": "https://i.example/n"},
                ],
            )
            assert sent() == []
        with django_capture_on_commit_callbacks(execute=True):
            services.items_upsert(dataset=dataset, rows=[{"external_id": "m", "url": "https://i.example/m"}])
        # One message, for the item with a hash; the rows without one have nothing to match.
        assert sent() == [("registry.tasks.items_rematch", ([DatasetItem.objects.get(external_id="h").pk],))]


def test_pdq_quality_is_kept_beside_its_pdq_from_a_number_or_a_csv_cell(dataset):
    rows = [
        {"external_id": "1", "url": "https://i.example/1", "pdq": PDQ, "pdq_quality": 87},
        {"external_id": "2", "url": "https://i.example/2", "pdq": PDQ, "pdq_quality": " 12 "},
        {"external_id": "3", "url": "https://i.example/3", "pdq": PDQ, "pdq_quality": ""},
    ]
    assert services.items_upsert(dataset=dataset, rows=rows).rejected == []
    stored = dict(DatasetItem.objects.filter(dataset=dataset).values_list("external_id", "pdq_quality"))
    assert stored == {"1": 87, "2": 12, "3": None}
    again = {"external_id": "1", "url": "https://i.example/1", "pdq": PDQ, "pdq_quality": 40}
    services.items_upsert(dataset=dataset, rows=[again])
    assert DatasetItem.objects.get(dataset=dataset, external_id="1").pdq_quality == 40
