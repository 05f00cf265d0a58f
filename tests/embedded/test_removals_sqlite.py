"""The set-based writer on the embedded default (SQLite): the portable insert and events, the same
payloads, idempotence, and the source of a removal."""

from __future__ import annotations

from tests.embedded.sqlite import script_result

SCRIPT = """
import json
from datetime import datetime
from django.db import connection
from registry import services
from registry.models import Removal, WebhookDelivery, WebhookEvent
from registry.services.removals import event_payload

org, _key = services.maintainer_create(name="M", email="m@example.org")
dataset = services.dataset_create(maintainer=org, slug="d", name="D")
other = services.dataset_create(maintainer=org, slug="o", name="O")
services.webhook_endpoint_create(maintainer=org, url="http://127.0.0.1:9/x", event_types=["removal.approved"])
NEG = "ffffffffffffff00"
rows = [{"external_id": f"a{n}", "url": f"https://i.example/a/{n}.jpg", "phash": NEG} for n in range(700)]
services.items_upsert(dataset=dataset, rows=rows)
rows = [{"external_id": f"b{n}", "url": f"https://i.example/b/{n}.jpg"} for n in range(30)]
services.items_upsert(dataset=other, rows=rows)
ids = list(dataset.items.order_by("pk").values_list("pk", flat=True))
written = services.removals_write(source_ref="PF-1", reason="copyright", items=services.ItemQuery.of_ids(ids),
                                  source="partner", partner="ArtPlatform")
again = services.removals_write(source_ref="PF-1", reason="copyright", items=services.ItemQuery.of_ids(ids))
entries = [services.RemovalEntry(dataset=other, item_id=pk, url=url)
           for pk, url in other.items.order_by("pk").values_list("pk", "url")]
entries.append(services.RemovalEntry(dataset=other, phash=255))  # a bare hash
many = services.removals_record_many(source_ref="RR-2026-000001", reason="likeness", entries=iter(entries))
events = list(WebhookEvent.objects.order_by("pk"))
parity = []
for event in events:
    removals = list(event.removals.order_by("pk"))
    stamp = datetime.fromisoformat(event.payload["timestamp"].replace("Z", "+00:00"))
    parity.append(event.payload == event_payload("removal.approved", event.dataset, removals, stamp))
from registry.bulk_matching import OptOutRow, optout_rows_match
url_rows = [OptOutRow(1, url="https://i.example/a/3.jpg"), OptOutRow(2, url="https://i.example/a/none.jpg")]
matched = [(m.row_id, m.signal) for m in optout_rows_match(url_rows)]
print("RESULT" + json.dumps({
    "matched": matched,
    "vendor": connection.vendor,
    "written": [written.count, written.events, written.by_dataset.get(dataset.pk)],
    "again": [again.count, again.events],
    "many": [many.count, many.events],
    "sizes": [e.removals.count() for e in events],
    "parity": parity,
    "sources": sorted({(r.source, r.partner) for r in Removal.objects.all()}),
    "first": events[0].payload["data"]["removals"][0],
    "deliveries": WebhookDelivery.objects.count(),
    "ids": len(set(Removal.objects.values_list("public_id", flat=True))),
}))
"""


def test_the_writer_on_sqlite(tmp_path):
    # The endpoint the script registers is never called: no worker runs.
    result = script_result(tmp_path, SCRIPT, OUTBOUND_ALLOW_LOOPBACK="1")
    assert result["vendor"] == "sqlite"
    assert result["written"] == [700, 2, 700]
    assert result["again"] == [0, 0]  # the same items for the same source: nothing new
    assert result["many"] == [31, 1]  # 30 items and a bare hash, in the other data set
    assert result["sizes"] == [500, 200, 31]
    assert result["parity"] == [True, True, True]
    assert result["sources"] == [["artist", ""], ["partner", "ArtPlatform"]]
    first = result["first"]
    assert (first["source"], first["partner"], first["phash"]) == (
        "partner",
        "ArtPlatform",
        "ffffffffffffff00",
    )
    assert result["deliveries"] == 3  # one endpoint, three events
    assert result["ids"] == 731
    assert result["matched"] == [[1, "url"]]  # bulk matching's URL join, the SQLite way
