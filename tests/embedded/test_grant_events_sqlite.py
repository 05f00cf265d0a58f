"""Licence events on the embedded default (SQLite): licence.granted and licence.revoked written
through the ORM, and the delivery engine's order check across removals and grants of the same
item, whose SQL must run on SQLite too."""

from __future__ import annotations

from tests.embedded.sqlite import script_result

SCRIPT = """
import json
from django.db import connection
from registry import services
from registry.models import WebhookDelivery, WebhookEvent
from registry.preferences import consent_clean
from registry.services import delivery

org, _key = services.maintainer_create(name="M", email="m@example.org")
dataset = services.dataset_create(maintainer=org, slug="d", name="D")
services.webhook_endpoint_create(maintainer=org, url="http://127.0.0.1:9/x",
    event_types=["removal.approved", "removal.revoked", "licence.granted", "licence.revoked"])
services.items_upsert(dataset=dataset, rows=[
    {"external_id": f"a{n}", "url": f"https://i.example/a/{n}.jpg"} for n in range(3)])
items = list(dataset.items.order_by("pk"))
entries = [services.RemovalEntry(dataset=dataset, item=i) for i in items[:2]]
services.removals_record(source_ref="RR-1", reason="copyright", entries=entries)
services.removals_revoke(removals=services.RemovalQuery.of_sources(["RR-1"]), why="changed")
consent = consent_clean(choice="licence", licence="cc0")
granted = services.licence_grants_record(source_ref="RR-1", consent=consent, entries=entries)
other = services.licence_grants_record(source_ref="RR-2", consent=consent,
    entries=[services.RemovalEntry(dataset=dataset, item=items[2])])
withdrawn = services.licence_grants_revoke(
    grants=services.GrantSelection(source_ref="RR-1", item_ids=[items[0].pk]), why="changed again")
held = WebhookDelivery.objects.get(event__event_type="licence.granted", event__grants=granted[0])
alone = WebhookDelivery.objects.get(event__event_type="licence.granted", event__grants=other[0])
print("RESULT" + json.dumps({
    "vendor": connection.vendor,
    "types": list(WebhookEvent.objects.order_by("pk").values_list("event_type", flat=True)),
    "granted": len(granted),
    "withdrawn": withdrawn,
    "held_waits": delivery._waits_for_earlier(held) is not None,
    "alone_waits": delivery._waits_for_earlier(alone) is not None,
    "licences": [g["licence"] for g in held.event.payload["data"]["licences"]],
}))
"""


def test_licence_events_on_sqlite(tmp_path):
    result = script_result(tmp_path, SCRIPT, OUTBOUND_ALLOW_LOOPBACK="1")
    assert result["vendor"] == "sqlite"
    assert result["types"] == [
        "removal.approved",
        "removal.revoked",
        "licence.granted",
        "licence.granted",
        "licence.revoked",
    ]
    assert (result["granted"], result["withdrawn"]) == (2, 1)
    # The grant waits for the revocation of the removals it replaces (no worker delivered them).
    assert result["held_waits"] is True
    # A grant about another item waits for nothing.
    assert result["alone_waits"] is False
    assert result["licences"] == ["cc0", "cc0"]
