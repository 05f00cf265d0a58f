"""Issue 14's journey end to end, each step through the interface its user has, over HTTP on a live
server, with a real Celery worker (PostgreSQL, Redis) and a loopback receiver that verifies the
signatures with the standardwebhooks library.

An operator sets a partner up in the Django admin (the partner and its attestation, its domain,
verified, its policy with a sample size, a key shown once); the maintainer registers a data set
and a webhook through the API; the partner files an NDJSON file in resumable chunks (one bad row
rejected with its line); the worker reads it and holds it for its sample; a moderator marks the
sampled rows good in "rows for the desk"; the policy approves the rest, audited naming the policy;
the receiver gets signed `removal.approved` events of at most 500 removals naming the partner; the
maintainer acknowledges; a creator claims the account through the link mailed to the address the
partner gave, sees the works and receipts, changes one work to search only and lifts another; the
receiver gets those events in order. The second test fails the sample: nothing is approved."""

from __future__ import annotations

import io
import re
import time
from typing import Any

import pytest
import requests
from django.core import mail
from django.core.management import call_command
from standardwebhooks.webhooks import Webhook

from partners.models import (
    Filing,
    FilingState,
    Partner,
    PartnerAction,
    PartnerActionKind,
    RowState,
    SampleState,
)
from registry.models import Removal, RemovalState
from tests.e2e.test_removal_flow import Browser
from tests.helpers import ARTIST_PASSWORD, make_artist, partner_row, wait_until
from tests.partners.admin_steps import BrowserPages, PartnerSetUp

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

HOST = "gallery.example"
ROWS = 520  # more than one event's 500 removals
SAMPLE = 3
ADA = {"id": "ada-77", "profile_url": f"https://{HOST}/u/ada-77", "email": "ada@creators.example"}
OPERATOR_PASSWORD = "operator pass phrase"
MODERATOR_PASSWORD = "moderator pass phrase"
DESK = "/admin/partners/deskrow/"


def _row(i: int) -> dict[str, Any]:
    creator = ADA if i < 3 else {"id": f"c{i}", "profile_url": f"https://{HOST}/u/c{i}"}
    return partner_row(i, creator=creator, work_url=f"https://cdn.{HOST}/w/{i}.jpg")


def _admin(base: str, username: str, password: str) -> Browser:
    browser = Browser(base)
    browser.page("/admin/login/")
    logged = browser.submit("/admin/login/?next=/admin/", {"username": username, "password": password})
    assert 'id="logout-form"' in logged.text or "Log out" in logged.text, logged.text[:500]
    return browser


def _people() -> tuple[Any, Any]:
    from django.contrib.auth.models import Group, User

    from requests_app.roles import MODERATOR_GROUP

    operator = User.objects.create_superuser("root@desk.example", "root@desk.example", OPERATOR_PASSWORD)
    moderator = User.objects.create_user(
        "mod@desk.example", "mod@desk.example", MODERATOR_PASSWORD, is_staff=True
    )
    moderator.groups.add(Group.objects.get(name=MODERATOR_GROUP))
    return operator, moderator


def _operator_sets_the_partner_up(base: str) -> tuple[Partner, str]:
    """The operator's pages, over HTTP: the partner, its domain verified, its policy, a key."""
    admin = _admin(base, "root@desk.example", OPERATOR_PASSWORD)
    partner, key = PartnerSetUp(BrowserPages(admin)).all_steps(sample_size=SAMPLE)
    kinds = set(PartnerAction.objects.filter(partner=partner).values_list("kind", flat=True))
    assert {
        PartnerActionKind.PARTNER_CREATED,
        PartnerActionKind.DOMAIN_ADDED,
        PartnerActionKind.DOMAIN_VERIFIED,
        PartnerActionKind.POLICY_CHANGED,
        PartnerActionKind.KEY_CREATED,
    } <= kinds
    return partner, key


def _maintainer_registers(base: str, receiver: Any) -> tuple[requests.Session, str]:
    """The maintainer's key from the server's command, then its data set, items and webhook."""
    out = io.StringIO()
    call_command("create_maintainer", "Open Images Lab", "--email", "ops@lab.example", stdout=out)
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {out.getvalue().strip().splitlines()[-1]}"
    assert api.post(f"{base}/api/v1/datasets/", json={"slug": "gal", "name": "Gal"}).status_code == 201
    items = [
        {"external_id": f"e{i}", "url": _row(i)["work_url"], "phash": _row(i)["phash"]} for i in range(ROWS)
    ]
    upsert = api.post(f"{base}/api/v1/datasets/gal/items/", json={"items": items})
    assert upsert.json()["created"] == ROWS, upsert.text
    hook = api.post(
        f"{base}/api/v1/webhooks/",
        json={"url": receiver.url, "events": ["removal.approved", "removal.revoked"], "datasets": ["gal"]},
    )
    assert hook.status_code == 201, hook.text
    return api, hook.json()["secret"]


def _partner_files(base: str, key: str) -> str:
    """An NDJSON file in chunks: one chunk sent at a wrong offset is refused with the right one,
    and the upload goes on from the offset the server holds."""
    import json

    rows = [_row(i) for i in range(ROWS)]
    rows.insert(7, _row(9999) | {"phash": "not hex"})  # line 8: rejected alone
    data = b"".join(json.dumps(r).encode() + b"\n" for r in rows)
    partner_api = requests.Session()
    partner_api.headers["Authorization"] = f"Bearer {key}"
    created = partner_api.post(
        f"{base}/api/v1/partner/filings/files/",
        json={"attestation": True, "name": "opt-outs.ndjson", "size": len(data)},
    )
    assert created.status_code == 201, created.text
    url = base + created.json()["file"]["url"]
    chunk = 16 * 1024

    def send(offset: int) -> requests.Response:
        return partner_api.patch(
            url,
            data=data[offset : offset + chunk],
            headers={"Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset)},
        )

    assert send(0).status_code == 200
    skipped = send(2 * chunk)  # as after a dropped connection: the server says where it stands
    assert skipped.status_code == 409 and skipped.json()["error"]["details"]["offset"] == chunk
    offset = partner_api.get(url).json()["offset"]
    while offset < len(data):
        answer = send(offset)
        assert answer.status_code == 200, answer.text
        offset = answer.json()["offset"]
    assert answer.json()["state"] == "reading"
    return created.json()["id"]


def _held_for_its_sample(base: str, key: str, filing_id: str) -> None:
    partner_api = requests.Session()
    partner_api.headers["Authorization"] = f"Bearer {key}"
    wait_until(
        lambda: Filing.objects.filter(public_id=filing_id, state=FilingState.HELD).exists(),
        timeout=120,
        what="the worker to read the file and hold it for its sample",
    )
    rejected = partner_api.get(f"{base}/api/v1/partner/filings/{filing_id}/rows/?state=rejected").json()
    assert [(r["line"], r["field"]) for r in rejected["results"]] == [(8, "phash")]
    body = partner_api.get(f"{base}/api/v1/partner/filings/{filing_id}/").json()
    assert body["counts"]["sampled"] == SAMPLE and body["counts"].get("approved", 0) == 0
    assert not Removal.objects.filter(source_ref=filing_id).exists()
    # The sampled rows are matched for the desk right after the draw: the moderator never judges blind.
    wait_until(
        lambda: (
            Filing.objects.get(public_id=filing_id)
            .rows.filter(state=RowState.SAMPLED, matched_at__isnull=False)
            .count()
            == SAMPLE
        ),
        what="the sample's evidence",
    )


def _moderator_marks_the_sample(base: str, mark: str) -> Browser:
    desk = _admin(base, "mod@desk.example", MODERATOR_PASSWORD)
    listed = desk.page(f"{DESK}?state__exact=sampled").text
    sampled = re.findall(r'name="_selected_action" value="(\d+)"', listed)
    assert len(sampled) == SAMPLE, listed[:3000]
    assert "same URL" in listed  # the evidence beside each row
    if mark == "good":
        done = desk.submit(DESK, {"action": "mark_good", "_selected_action": sampled})
        assert "sample passed" in done.text
    else:
        asked = desk.submit(DESK, {"action": "mark_bad", "_selected_action": sampled[:1]})
        assert "What is wrong?" in asked.text
        done = desk.submit(
            DESK,
            {
                "action": "mark_bad",
                "_selected_action": sampled[:1],
                "apply": "1",
                "reason": "Not the creator's work: another artist's picture.",
            },
        )
        desk.submit(DESK, {"action": "mark_good", "_selected_action": sampled[1:]})
    return desk


def _swept_until(receiver: Any, count: int) -> list[Any]:
    """The receiver's webhooks once `count` are in. A delivery that waits for an earlier one (an
    approval behind the revocation of the removal it replaces) is retried by beat's sweep, which
    is not running here: it is queued to the real worker the way beat would."""
    from registry import tasks as registry_tasks

    def arrived() -> bool:
        with receiver.lock:
            if len(receiver.received) >= count:
                return True
        registry_tasks.deliveries_sweep.delay()
        time.sleep(1)
        return False

    wait_until(arrived, timeout=90, what=f"{count} webhooks")
    return receiver.wait_for(count)


def _verified(secret: str, got: list[Any]) -> list[dict[str, Any]]:
    return [Webhook(secret).verify(g.body, g.headers) for g in got]


def test_a_partner_set_up_in_the_admin_files_and_its_creator_claims_and_changes_it(
    celery_worker_process, live_server, receiver
):
    base = live_server.url
    _people()
    partner, key = _operator_sets_the_partner_up(base)
    maintainer_api, secret = _maintainer_registers(base, receiver)

    filing_id = _partner_files(base, key)
    _held_for_its_sample(base, key, filing_id)
    _moderator_marks_the_sample(base, "good")

    filing = wait_until(
        lambda: Filing.objects.filter(public_id=filing_id, state=FilingState.COMPLETED).first(),
        timeout=120,
        what="the policy to decide the filing once its sample passed",
    )
    assert filing.sample_state == SampleState.PASSED
    assert filing.rows.filter(state=RowState.APPROVED).count() == ROWS
    audits = PartnerAction.objects.filter(partner=partner, kind=PartnerActionKind.ROWS_APPROVED_BY_POLICY)
    assert sum(a.detail["rows"] for a in audits) == ROWS
    assert {a.detail["policy"] for a in audits} == {partner.policy.pk}
    assert all(a.detail["settings"]["sample_size"] == SAMPLE for a in audits)

    # --- the maintainer's receiver: signed removal.approved, at most 500 removals each, the partner named
    got = receiver.wait_for(2, timeout=90)
    events = _verified(secret, got)
    assert {e["type"] for e in events} == {"removal.approved"}
    sizes = sorted(len(e["data"]["removals"]) for e in events)
    assert sizes == [ROWS - 500, 500]
    delivered = [r for e in events for r in e["data"]["removals"]]
    assert len({r["id"] for r in delivered}) == ROWS
    assert {(r["source"], r["partner"], r["request"]) for r in delivered} == {
        ("partner", "Gallery", filing_id)
    }

    # --- the maintainer acknowledges through the API
    wait_until(
        lambda: not Removal.objects.filter(source_ref=filing_id, state=RemovalState.PENDING).exists(),
        what="every removal delivered",
    )
    ids = []
    cursor = ""
    while True:
        page = maintainer_api.get(f"{base}/api/v1/datasets/gal/removals/?cursor={cursor}").json()
        ids += [r["id"] for r in page["results"]]
        if not page["next"]:
            break
        cursor = page["next"]
    assert len(ids) == ROWS
    acked = maintainer_api.post(f"{base}/api/v1/datasets/gal/removals/ack/", json={"ids": ids}).json()
    assert acked == {"acknowledged": ROWS, "unknown": []}

    # --- the creator claims the account through the link mailed to the address the partner gave
    make_artist("ada@site.example", name="Ada Byron")
    site = Browser(base)
    site.page("/login/")
    site.submit("/login/", {"username": "ada@site.example", "password": ARTIST_PASSWORD})
    found = site.submit("/claims/", {"partner": "gallery", "creator_id": "ADA-77"})
    assert "a••@creators.example" in found.text and ADA["email"] not in found.text
    site.submit("/claims/email/", {"partner": "gallery", "creator_id": "ada-77"})
    [message] = wait_until(
        lambda: [m for m in mail.outbox if m.to == [ADA["email"]]], what="the claim's mail"
    )
    assert "Gallery" in message.subject
    link = re.search(r"http\S+(/claims/confirm/\S+/)", message.body).group(1)
    claimed = site.page(link)
    assert "Claimed: these are the works Gallery filed for you." in claimed.text
    claim_path = re.search(r'action="(/claims/\d+/)lift/"', claimed.text).group(1)

    # --- sees the works and the receipts, acknowledged
    mine = site.page(claim_path).text
    for i in range(3):
        assert f"https://cdn.{HOST}/w/{i}.jpg" in mine
    assert f"https://cdn.{HOST}/w/3.jpg" not in mine
    assert mine.count("1 (1 acknowledged)") == 3, mine
    choice_links = dict(
        (int(m.group(2)), m.group(1))
        for m in re.finditer(
            r'href="(/claims/\d+/rows/\d+/choice/)"\s+aria-label="Change the choice for https://cdn\.'
            + re.escape(HOST)
            + r'/w/(\d+)\.jpg"',
            mine,
        )
    )
    assert set(choice_links) == {0, 1, 2}, mine
    row_ids = {i: int(path.rstrip("/").split("/")[-2]) for i, path in choice_links.items()}

    # --- changes work 0 to search only, then lifts work 1
    before = len(receiver.received)
    changed = site.submit(choice_links[0], {"choice": "search_only"})
    assert "the data set maintainers are told" in changed.text
    changed_events = _verified(secret, _swept_until(receiver, before + 2)[before:])
    lifted = site.submit(f"{claim_path}lift/", {"row": str(row_ids[1])})
    assert "1 removal(s) revoked" in lifted.text
    lift_events = _verified(secret, _swept_until(receiver, before + 3)[before + 2 :])

    [e0] = [r for r in delivered if r["external_id"] == "e0"]
    [e1] = [r for r in delivered if r["external_id"] == "e1"]
    revoked, restated = changed_events
    assert revoked["type"] == "removal.revoked" and [r["id"] for r in revoked["data"]["removals"]] == [
        e0["id"]
    ]
    assert restated["type"] == "removal.approved"
    [search_only] = restated["data"]["removals"]
    assert search_only["external_id"] == "e0" and search_only["id"] != e0["id"]
    assert (search_only["search"], search_only["partner"]) == ("allowed", "Gallery")
    assert restated["timestamp"] > revoked["timestamp"]
    [lift] = lift_events
    assert lift["type"] == "removal.revoked" and [r["id"] for r in lift["data"]["removals"]] == [e1["id"]]

    # The maintainer's feed and the creator's page agree.
    states = dict(
        Removal.objects.filter(source_ref=filing_id, external_id__in=["e0", "e1", "e2"]).values_list(
            "public_id", "state"
        )
    )
    assert states[e0["id"]] == states[e1["id"]] == RemovalState.REVOKED
    assert "Lifted" in site.page(claim_path).text


def test_a_sample_marked_bad_holds_the_file_and_nothing_is_approved(
    celery_worker_process, live_server, receiver
):
    base = live_server.url
    _people()
    partner, key = _operator_sets_the_partner_up(base)
    _maintainer_registers(base, receiver)
    filing_id = _partner_files(base, key)
    _held_for_its_sample(base, key, filing_id)
    _moderator_marks_the_sample(base, "bad")

    filing = wait_until(
        lambda: Filing.objects.filter(public_id=filing_id, sample_state=SampleState.FAILED).first(),
        what="the sample to fail",
    )
    assert filing.state == FilingState.HELD
    assert "another artist's picture" in PartnerAction.objects.get(
        partner=partner, kind=PartnerActionKind.SAMPLE_FAILED
    ).detail.get("reason", "")
    # The worker matches the failed sample's rows for the desk; it approves nothing.
    time.sleep(3)
    assert not Removal.objects.filter(source_ref=filing_id).exists()
    assert not filing.rows.filter(state=RowState.APPROVED).exists()
    assert filing.rows.filter(state=RowState.WAITING).count() == ROWS
    assert not PartnerAction.objects.filter(
        partner=partner, kind=PartnerActionKind.ROWS_APPROVED_BY_POLICY
    ).exists()
    assert receiver.received == []
