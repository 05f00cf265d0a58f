"""Revocation on the embedded default (SQLite): the portable UPDATE and events, the same payloads,
the delivery engine's order check, and a claimed creator lifting a partner's row."""

from __future__ import annotations

from tests.embedded.sqlite import script_result

SCRIPT = """
import datetime, json
from django.contrib.auth.models import User
from django.db import connection
from partners import services as partners
from partners.models import PartnerKey
from registry import services
from registry.models import Removal, WebhookDelivery, WebhookEvent
from registry.services import delivery
from registry.services.removals import event_payload

org, _key = services.maintainer_create(name="M", email="m@example.org")
dataset = services.dataset_create(maintainer=org, slug="d", name="D")
services.webhook_endpoint_create(maintainer=org, url="http://127.0.0.1:9/x",
                                 event_types=["removal.approved", "removal.revoked"])
rows = [{"external_id": f"a{n}", "url": f"https://i.example/a/{n}.jpg"} for n in range(700)]
services.items_upsert(dataset=dataset, rows=rows)
ids = list(dataset.items.order_by("pk").values_list("pk", flat=True))
services.removals_write(source_ref="RR-1", reason="copyright", items=services.ItemQuery.of_ids(ids))
revoked = services.removals_revoke(removals=services.RemovalQuery.of_sources(["RR-1"]), why="lifted")
again = services.removals_revoke(removals=services.RemovalQuery.of_sources(["RR-1"]), why="lifted")
events = list(WebhookEvent.objects.filter(event_type="removal.revoked").order_by("pk"))
parity = []
for event in events:
    removals = list(event.removals.order_by("pk"))
    stamp = datetime.datetime.fromisoformat(event.payload["timestamp"].replace("Z", "+00:00"))
    parity.append(event.payload == event_payload("removal.revoked", event.dataset, removals, stamp))
held = WebhookDelivery.objects.filter(event=events[0]).get()
waits = delivery._waits_for_earlier(held)

partner = partners.partner_create(name="ArtPlace", slug="artplace", contact_email="l@art.example",
    agreement_ref="AG", agreement_date=datetime.date(2026, 11, 1), attestation_text="We hold it.")
partners.partner_domain_verify(domain=partners.partner_domain_add(partner=partner, host="*.art.example"))
partners.partner_key_create(partner=partner)
partners.filing_policy_update(policy=partner.policy, auto_approve_verified_hashed=True)
works = [f"https://cdn.art.example/w/{n}.jpg" for n in range(2)]
services.items_upsert(dataset=dataset, rows=[
    {"external_id": f"p{n}", "url": url, "phash": f"{n + 1:016x}"} for n, url in enumerate(works)
])
creator = {"id": "Ada", "profile_url": "https://art.example/u/ada", "email": "ada@c.example"}
filed = [{"creator": creator, "work_url": f"https://cdn.art.example/w/{n}.jpg", "phash": f"{n + 1:016x}",
          "basis": "copyright", "choice": "remove"} for n in range(2)]
filing = partners.filing_create(key=PartnerKey.objects.get(), rows=filed, attestation=True).filing
partners.filing_run(partners.filing_claim(filing.pk))
user = User.objects.create_user("ada@example.com", "ada@example.com", "pw")
ada = partners.creator_find(partner=partner, creator_id="ada")
_, token = partners.claim_email_token(user=user, creator=ada)
claim = partners.claim_by_email(user=user, token=token)
row = partners.claim_rows(claim).get(index=0)
lifted = partners.claim_lift(claim=claim, user=user, row_ids=[row.pk])
print("RESULT" + json.dumps({
    "vendor": connection.vendor,
    "revoked": [revoked.count, revoked.events],
    "again": [again.count, again.events],
    "sizes": [e.removals.count() for e in events],
    "parity": parity,
    "states": sorted(set(Removal.objects.filter(source_ref="RR-1").values_list("state", flat=True))),
    "waits": waits is not None and waits.tzinfo is not None,
    "lifted": [lifted.rows, lifted.removals],
    "partner_states": dict(
        Removal.objects.filter(source_ref=filing.public_id).values_list("external_id", "state")
    ),
}))
"""


def test_revocation_on_sqlite(tmp_path):
    # The endpoint the script registers is never called: no worker runs.
    result = script_result(tmp_path, SCRIPT, OUTBOUND_ALLOW_LOOPBACK="1")
    assert result["vendor"] == "sqlite"
    assert result["revoked"] == [700, 2]
    assert result["again"] == [0, 0]
    assert result["sizes"] == [500, 200]
    assert result["parity"] == [True, True]
    assert result["states"] == ["revoked"]
    # The revocation's delivery waits for the approval's, still pending (no worker here).
    assert result["waits"] is True
    assert result["lifted"] == [1, 1]
    assert result["partner_states"] == {"p0": "revoked", "p1": "pending"}
