"""registry.services: licence.granted and licence.revoked webhook events, their outbox rows, and
their order against removal events about the same items at a real loopback receiver."""

from __future__ import annotations

import pytest
from standardwebhooks.webhooks import Webhook

from registry import services
from registry.models import DeliveryState, GrantState, LicenceGrant, WebhookDelivery, WebhookEvent
from registry.preferences import consent_clean

WHY = "The artist changed their choice for this work."
CC_BY = consent_clean(choice="licence", licence="cc-by", attribution="Photo: A. Artist")


def _items(dataset, count: int, *, prefix: str = "g") -> list:
    services.items_upsert(
        dataset=dataset,
        rows=[
            {
                "external_id": f"{prefix}{i}",
                "url": f"https://i.example/{prefix}{i}.jpg",
                "phash": f"{(i * 0x9E3779B97F4A7C15 + 11) & (2**64 - 1):016x}",
            }
            for i in range(count)
        ],
    )
    return list(dataset.items.filter(external_id__startswith=prefix).order_by("pk"))


def _grant(dataset, items, ref="RR-2026-000007"):
    return services.licence_grants_record(
        source_ref=ref,
        consent=CC_BY,
        entries=[services.RemovalEntry(dataset=dataset, item=item) for item in items],
    )


@pytest.fixture
def every_endpoint(maintainer, receiver):
    return services.webhook_endpoint_create(
        maintainer=maintainer.maintainer,
        url=receiver.url,
        event_types=["removal.approved", "removal.revoked", "licence.granted", "licence.revoked"],
    )


def test_it_writes_licence_granted_events_of_at_most_500_for_subscribed_endpoints(
    dataset, every_endpoint, maintainer, receiver
):
    endpoint, _ = every_endpoint
    removals_only, _ = services.webhook_endpoint_create(
        maintainer=maintainer.maintainer, url=receiver.url, event_types=["removal.approved"]
    )
    grants = _grant(dataset, _items(dataset, 1001))
    events = WebhookEvent.objects.filter(event_type="licence.granted").order_by("pk")
    assert [e.grants.count() for e in events] == [500, 500, 1]
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 3
    assert not WebhookDelivery.objects.filter(endpoint=removals_only).exists()
    first = events[0].payload
    assert first["type"] == "licence.granted" and first["data"]["dataset"] == "d"
    assert [g["id"] for g in first["data"]["licences"]] == [g.public_id for g in grants[:500]]
    sample = first["data"]["licences"][0]
    assert (sample["licence"], sample["attribution"], sample["train_ai"], sample["state"]) == (
        "cc-by",
        "Photo: A. Artist",
        "allowed",
        "active",
    )
    assert sample["licence_url"] == "https://creativecommons.org/licenses/by/4.0/"
    # Recording the same items again grants nothing and tells nobody twice.
    assert _grant(dataset, dataset.items.all()) == []
    assert WebhookEvent.objects.filter(event_type="licence.granted").count() == 3


def test_it_tells_a_revocation_once_signed_as_licence_revoked(dataset, every_endpoint, receiver):
    _, secret = every_endpoint
    items = _items(dataset, 3)
    _grant(dataset, items)
    assert services.deliveries_send_due() == {"succeeded": 1}
    selection = services.GrantSelection(source_ref="RR-2026-000007", item_ids=[items[0].pk, items[1].pk])
    assert services.licence_grants_revoke(grants=selection, why=WHY) == 2
    assert services.licence_grants_revoke(grants=selection, why=WHY) == 0  # not told twice
    assert WebhookEvent.objects.filter(event_type="licence.revoked").count() == 1
    assert services.deliveries_send_due() == {"succeeded": 1}
    granted, revoked = (Webhook(secret).verify(r.body, r.headers) for r in receiver.received)
    assert granted["type"] == "licence.granted" and len(granted["data"]["licences"]) == 3
    assert revoked["type"] == "licence.revoked"
    assert [(g["state"], g["revoked_reason"]) for g in revoked["data"]["licences"]] == [("revoked", WHY)] * 2
    assert revoked["timestamp"] > granted["timestamp"]
    assert LicenceGrant.objects.filter(state=GrantState.ACTIVE).count() == 1


def test_a_bad_reason_revokes_nothing_and_writes_no_event(dataset, every_endpoint):
    items = _items(dataset, 1)
    _grant(dataset, items)
    with pytest.raises(ValueError, match="characters"):
        services.licence_grants_revoke(
            grants=services.GrantSelection(source_ref="RR-2026-000007", item_ids=[items[0].pk]), why="x" * 501
        )
    assert LicenceGrant.objects.get().state == GrantState.ACTIVE
    assert not WebhookEvent.objects.filter(event_type="licence.revoked").exists()


def _remove(ref: str):
    """A writer of removals of the given items under `ref`."""

    def write(dataset, items) -> None:
        services.removals_record(
            source_ref=ref,
            reason="copyright",
            entries=[services.RemovalEntry(dataset=dataset, item=item) for item in items],
        )

    return write


def _revoke_removals(dataset, items) -> None:
    services.removals_revoke(removals=services.RemovalQuery.of_sources(["RR-2026-000007"]), why=WHY)


def _withdraw_licences(dataset, items) -> None:
    selection = services.GrantSelection(source_ref="RR-2026-000007", item_ids=[item.pk for item in items])
    services.licence_grants_revoke(grants=selection, why=WHY)


@pytest.mark.parametrize(
    ("first", "undo", "replacement", "types"),
    [
        # Removed, then licensed: removal.revoked is written before licence.granted.
        pytest.param(
            _remove("RR-2026-000007"),
            _revoke_removals,
            _grant,
            ("removal.approved", "removal.revoked", "licence.granted"),
            id="a_licence_granted_waits_for_the_revocation_of_the_removal_it_replaces",
        ),
        # Licensed, then removed: licence.revoked is written before removal.approved.
        pytest.param(
            _grant,
            _withdraw_licences,
            _remove("RR-2026-000007"),
            ("licence.granted", "licence.revoked", "removal.approved"),
            id="a_removal_approved_waits_for_the_withdrawal_of_the_licence_it_replaces",
        ),
        # Removed, then search only (or back): the new removal's approval after the old one's revocation.
        pytest.param(
            _remove("RR-2026-000007"),
            _revoke_removals,
            _remove("RR-2026-000008"),
            ("removal.approved", "removal.revoked", "removal.approved"),
            id="a_removal_approved_waits_for_the_revocation_of_the_removal_it_replaces",
        ),
    ],
)
def test_an_event_waits_for_the_undoing_of_what_it_replaces(
    dataset, every_endpoint, receiver, first, undo, replacement, types
):
    """What replaces an earlier choice reaches the endpoint after that choice's undoing, while the
    undoing retries, whatever order the workers take them in."""
    first_type, undo_type, replacement_type = types
    items = _items(dataset, 2)
    first(dataset, items)
    assert services.deliveries_send_due() == {"succeeded": 1}
    receiver.answer = 503
    undo(dataset, items)
    assert services.deliveries_send_due() == {"retry": 1}  # the undoing fails once
    replacement(dataset, items)
    receiver.answer = 204
    replacing = WebhookDelivery.objects.get(event__event_type=replacement_type, attempts=0)
    assert services.delivery_attempt(replacing.pk) == "waiting"
    replacing.refresh_from_db()
    assert replacing.attempts == 0 and "earlier event" in replacing.last_error
    WebhookDelivery.objects.filter(state=DeliveryState.PENDING).update(next_attempt_at=replacing.created_at)
    undoing = WebhookDelivery.objects.get(event__event_type=undo_type)
    assert services.delivery_attempt(undoing.pk) == "succeeded"
    assert services.delivery_attempt(replacing.pk) == "succeeded"
    assert [r.json()["type"] for r in receiver.received] == [
        first_type,
        undo_type,
        undo_type,
        replacement_type,
    ]


def test_an_approval_of_other_items_does_not_wait_for_a_pending_licence_event(
    dataset, every_endpoint, receiver
):
    licensed, removed = _items(dataset, 2)
    receiver.answer = 503
    _grant(dataset, [licensed])
    assert services.deliveries_send_due() == {"retry": 1}
    receiver.answer = 204
    services.removals_record(
        source_ref="RR-2026-000008",
        reason="copyright",
        entries=[services.RemovalEntry(dataset=dataset, item=removed)],
    )
    approved = WebhookDelivery.objects.get(event__event_type="removal.approved")
    assert services.delivery_attempt(approved.pk) == "succeeded"


def test_the_databases_payload_is_event_payloads_own(dataset, every_endpoint):
    """On PostgreSQL the payloads of grant events are built in SQL: they must equal event_payload's
    for the same grants (a negative pHash, a PDQ, non-ASCII text, a revocation's time and reason)."""
    from registry.services.events import event_payload
    from tests.registry.services.test_removals import clock_of

    items = _items(dataset, 3)
    services.items_upsert(
        dataset=dataset,
        rows=[
            {
                "external_id": "neg",
                "url": "https://i.example/n.jpg",
                "phash": "ffffffffffffff00",
                "pdq": "ab" * 32,
            }
        ],
    )
    items.append(dataset.items.get(external_id="neg"))
    services.licence_grants_record(
        source_ref="RR-2026-000008",
        consent=consent_clean(choice="licence", licence="cc-by-sa", attribution="Atelier « Été »"),
        entries=[services.RemovalEntry(dataset=dataset, item=item) for item in items],
        source="partner",
        partner="Atelier « Été »",
    )

    def built_as_event_payload(event_type: str, count: int) -> bool:
        event = WebhookEvent.objects.get(event_type=event_type)
        grants = list(event.grants.order_by("pk"))  # as they stand: as they stood when it was written
        return len(grants) == count and event.payload == event_payload(
            event_type, dataset, grants, clock_of(event)
        )

    assert built_as_event_payload("licence.granted", 4)
    services.licence_grants_revoke(
        grants=services.GrantSelection(source_ref="RR-2026-000008", item_ids=[items[0].pk]), why=WHY
    )
    assert built_as_event_payload("licence.revoked", 1)
    [negative] = [
        g
        for g in WebhookEvent.objects.get(event_type="licence.granted").payload["data"]["licences"]
        if g["external_id"] == "neg"
    ]
    assert (negative["phash"], negative["pdq"]) == ("ffffffffffffff00", "ab" * 32)


def test_grants_under_several_licences_are_one_write_and_an_item_named_twice_is_granted_once(
    dataset, every_endpoint
):
    a, b, c = _items(dataset, 3)
    cc0 = consent_clean(choice="licence", licence="cc0")
    entry = lambda item: services.RemovalEntry(dataset=dataset, item=item)  # noqa: E731
    created = services.licence_grants_record_many(
        source_ref="RR-2026-000009", granted=[(CC_BY, [entry(a), entry(b)]), (cc0, [entry(b), entry(c)])]
    )
    assert [(g.item_id, g.licence) for g in created] == [(a.pk, "cc-by"), (b.pk, "cc-by"), (c.pk, "cc0")]
    [event] = WebhookEvent.objects.filter(event_type="licence.granted")
    assert [g["licence"] for g in event.payload["data"]["licences"]] == ["cc-by", "cc-by", "cc0"]
    # Again: every item stands granted for the source, so nothing new.
    assert services.licence_grants_record_many(source_ref="RR-2026-000009", granted=[(cc0, [entry(a)])]) == []
    with pytest.raises(ValueError, match="licence choice"):
        services.licence_grants_record_many(
            source_ref="RR-2026-000009", granted=[(consent_clean(choice="remove"), [entry(a)])]
        )
