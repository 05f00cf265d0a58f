"""The toolkit keeps working beside licence events: its webhook receiver acknowledges a signed
licence.granted (2xx, so the registry does not retry it) and leaves its store of removals as it
was, and sync still reads only removals."""

from __future__ import annotations

import pytest
from removal_desk_toolkit.webhooks import WebhookReceiver

from registry import services
from registry.models import DeliveryState, WebhookDelivery
from registry.preferences import consent_clean
from tests.helpers import record_removals
from tests.toolkit.test_sync import toolkit_receiver  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.django_db]


def test_a_licence_event_is_acknowledged_and_changes_no_removal(maintainer, toolkit_receiver):  # noqa: F811
    url, store, box = toolkit_receiver
    _endpoint, secret = services.webhook_endpoint_create(
        maintainer=maintainer.maintainer, url=url, event_types=["removal.approved", "licence.granted"]
    )
    box["receiver"] = WebhookReceiver(store, secrets=[secret])
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    removals = record_removals(dataset, 2)
    services.items_upsert(dataset=dataset, rows=[{"external_id": "lic", "url": "https://i.example/lic.jpg"}])
    services.licence_grants_record(
        source_ref="RR-2026-000009",
        consent=consent_clean(choice="licence", licence="cc0"),
        entries=[services.RemovalEntry(dataset=dataset, item=dataset.items.get(external_id="lic"))],
    )
    assert services.deliveries_send_due() == {"succeeded": 2}
    assert box["statuses"] == ["200 OK", "202 Accepted"]
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {DeliveryState.SUCCEEDED}
    assert {r["id"] for r in store.live()} == {r.public_id for r in removals}
