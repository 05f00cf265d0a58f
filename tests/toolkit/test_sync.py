"""`removal-desk sync` and the webhook receiver against the real server: a live_server on loopback,
a maintainer key, removals recorded by the registry's services, the toolkit run as a maintainer
runs it (a process of its own, with no Django), killed mid-way and resumed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
import requests
from removal_desk_toolkit.store import Store
from removal_desk_toolkit.webhooks import WebhookReceiver, wsgi_app
from standardwebhooks.webhooks import Webhook

from registry import services
from registry.models import Removal, RemovalState
from registry.services.removals import RemovalQuery
from tests.helpers import record_removals, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

TOOLKIT = Path(__file__).resolve().parents[2] / "toolkit"


def desk(*args: str, key: str, wait: bool = True) -> subprocess.CompletedProcess[str] | subprocess.Popen[str]:
    """`removal-desk ARGS` in a maintainer's shell: no Django settings, the key in the environment."""
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env.update(PYTHONPATH=str(TOOLKIT), REMOVAL_DESK_KEY=key)
    command = [sys.executable, "-m", "removal_desk_toolkit", *args]
    if not wait:
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def held(store: Path, dataset: str = "d") -> list[tuple[str, str]]:
    with sqlite3.connect(store) as db:
        return db.execute(
            "SELECT id, state FROM removals WHERE dataset = ? ORDER BY id", (dataset,)
        ).fetchall()


def server_ids(dataset) -> list[str]:
    return sorted(Removal.objects.filter(dataset=dataset).values_list("public_id", flat=True))


def test_it_syncs_a_data_set_and_then_only_what_was_recorded_since(live_server, maintainer, tmp_path):
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    record_removals(dataset, 7)
    other = services.dataset_create(maintainer=maintainer.maintainer, slug="e", name="E")
    record_removals(other, 3, ref="RR-2026-000003")
    store = tmp_path / "removals.sqlite3"
    args = ("sync", "--server", live_server.url, "--dataset", "d", "--store", str(store), "--limit", "3")

    first = desk(*args, key=maintainer.key)
    assert first.returncode == 0, first.stderr
    assert [i for i, _ in held(store)] == server_ids(dataset)
    assert (
        "d: up to date: 7 removals read in 3 page(s) and 0 revocations, 7 in force and 0 revoked held"
        in first.stderr
    )
    assert "7 recorded on the server" in first.stderr

    record_removals(dataset, 2, ref="RR-2026-000002")
    second = desk(*args, key=maintainer.key)
    assert second.returncode == 0, second.stderr
    assert "2 removals read in 1 page(s) and 0 revocations, 9 in force" in second.stderr
    assert [i for i, _ in held(store)] == server_ids(dataset)
    # Nothing new: one empty page, nothing doubled.
    third = desk(*args, key=maintainer.key)
    assert "0 removals read in 1 page(s) and 0 revocations, 9 in force" in third.stderr
    assert len(held(store)) == 9 and held(store, "e") == []


def test_a_sync_killed_mid_way_resumes_without_skipping_or_doubling(live_server, maintainer, tmp_path):
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    record_removals(dataset, 150)
    store = tmp_path / "removals.sqlite3"
    args = ("sync", "--server", live_server.url, "--dataset", "d", "--store", str(store), "--limit", "1")

    process = desk(*args, key=maintainer.key, wait=False)
    assert isinstance(process, subprocess.Popen)

    def pages_written() -> int:
        try:
            with sqlite3.connect(store, timeout=5) as db:
                row = db.execute("SELECT pages FROM feeds WHERE dataset = 'd'").fetchone()
                return row[0] if row else 0
        except sqlite3.OperationalError:  # the table is not there yet
            return 0

    wait_until(lambda: pages_written() >= 5, timeout=60, what="the sync to write five pages")
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    at_kill = len(held(store))
    assert 5 <= at_kill < 150, at_kill  # killed mid-way

    resumed = desk(*args, key=maintainer.key)
    assert resumed.returncode == 0, resumed.stderr
    ids = [i for i, _ in held(store)]
    assert ids == server_ids(dataset) and len(ids) == len(set(ids)) == 150
    # It went on from the last page written, not from the start.
    assert f"{150 - at_kill} removals read" in resumed.stderr


def test_a_removal_missing_from_the_copy_is_found_by_the_count_and_read_again(
    live_server, maintainer, tmp_path
):
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    record_removals(dataset, 6)
    store = tmp_path / "removals.sqlite3"
    args = ("sync", "--server", live_server.url, "--dataset", "d", "--store", str(store), "--limit", "4")
    assert desk(*args, key=maintainer.key).returncode == 0
    # A removal the copy never got (as when one commits late, below a cursor already passed).
    lost = server_ids(dataset)[2]
    with sqlite3.connect(store) as db:
        db.execute("DELETE FROM removals WHERE id = ?", (lost,))
    result = desk(*args, key=maintainer.key)
    assert result.returncode == 0, result.stderr
    assert "1 removal(s) were recorded below a cursor already passed; reading the feed again" in result.stderr
    assert [i for i, _ in held(store)] == server_ids(dataset)


def test_a_plain_sync_learns_of_revocations_from_the_revocations_feed(live_server, maintainer, tmp_path):
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    removals = record_removals(dataset, 5)
    store = tmp_path / "removals.sqlite3"
    args = ("sync", "--server", live_server.url, "--dataset", "d", "--store", str(store), "--limit", "2")
    assert desk(*args, key=maintainer.key).returncode == 0
    # Revoked by the registry after the copy passed them: the removals feed's cursor is beyond.
    services.removals_revoke(
        removals=RemovalQuery.of_ids([removals[0].pk, removals[3].pk]), why="Lifted by the artist."
    )
    synced = desk(*args, key=maintainer.key)
    assert synced.returncode == 0, synced.stderr
    assert "0 removals read in 1 page(s) and 2 revocations, 3 in force and 2 revoked held" in synced.stderr
    assert dict(held(store)) == {
        r.public_id: ("revoked" if r in (removals[0], removals[3]) else "pending") for r in removals
    }
    # Polled from its own cursor: read once, not again on the next sync.
    again = desk(*args, key=maintainer.key)
    assert "0 removals read in 1 page(s) and 0 revocations, 3 in force and 2 revoked held" in again.stderr
    # A revocation of a removal the copy never held (recorded and revoked since) is held too.
    [late] = record_removals(dataset, 1, ref="RR-2026-000009")
    services.removals_revoke(removals=RemovalQuery.of_ids([late.pk]), why="Lifted by the artist.")
    last = desk(*args, key=maintainer.key)
    assert "1 removals read in 1 page(s) and 1 revocations, 3 in force and 3 revoked held" in last.stderr
    assert dict(held(store))[late.public_id] == "revoked"


def test_full_takes_revocations_and_a_refused_cursor_says_what_to_do(live_server, maintainer, tmp_path):
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    removals = record_removals(dataset, 4)
    store = tmp_path / "removals.sqlite3"
    args = ("sync", "--server", live_server.url, "--dataset", "d", "--store", str(store))
    assert desk(*args, key=maintainer.key).returncode == 0
    # The registry revokes one (the state the feed shows for a revoked removal).
    Removal.objects.filter(pk=removals[1].pk).update(state=RemovalState.REVOKED)
    full = desk(*args, "--full", key=maintainer.key)
    assert full.returncode == 0, full.stderr
    assert "3 in force and 1 revoked held" in full.stderr
    with Store(store) as copy:
        assert removals[1].public_id not in {r["id"] for r in copy.live()}
        assert len(list(copy.live())) == 3

    # A cursor the server never gave out (an old store, a hand edit): a clear error, nothing lost.
    with sqlite3.connect(store) as db:
        db.execute("UPDATE feeds SET cursor = 'not-a-cursor' WHERE dataset = 'd'")
    refused = desk(*args, key=maintainer.key)
    assert refused.returncode == 1
    assert "the server refused the saved cursor" in refused.stderr
    assert "removal-desk sync --full" in refused.stderr
    assert len(held(store)) == 4
    assert desk(*args, "--full", key=maintainer.key).returncode == 0


def test_bad_keys_data_sets_and_servers_are_explained(live_server, maintainer, other_maintainer, tmp_path):
    services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    store = tmp_path / "removals.sqlite3"
    args = ("sync", "--server", live_server.url, "--dataset", "d", "--store", str(store))
    wrong = desk(*args, key="rd_not-a-key")
    assert (
        wrong.returncode == 1 and "refused the API key" in wrong.stderr and "REMOVAL_DESK_KEY" in wrong.stderr
    )
    # Another organisation's data set is not found for this key.
    foreign = desk(*args, key=other_maintainer.key)
    assert foreign.returncode == 1 and "no such data set for this key" in foreign.stderr
    missing = desk(*args, key="")
    assert missing.returncode == 1 and "REMOVAL_DESK_KEY" in missing.stderr
    assert desk(*args, key=maintainer.key).returncode == 0
    elsewhere = desk(
        "sync", "--server", "http://127.0.0.1:9", "--dataset", "d", "--store", str(store), key="k"
    )
    assert elsewhere.returncode == 1 and "use another --store file" in elsewhere.stderr


@pytest.fixture
def toolkit_receiver(tmp_path):
    """The toolkit's WSGI receiver on loopback, writing into a store; yields (url, store, secret box)."""
    store = Store(tmp_path / "hooks.sqlite3")
    box: dict = {"statuses": []}

    def app(environ, start_response):
        def record(status, headers):
            box["statuses"].append(status)
            return start_response(status, headers)

        return wsgi_app(box["receiver"])(environ, record)

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = make_server("127.0.0.1", 0, app, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hooks", store, box
    server.shutdown()
    server.server_close()
    store.close()


@pytest.mark.worker
def test_the_registrys_webhooks_are_verified_and_applied_once(
    celery_worker_process, live_server, maintainer, toolkit_receiver
):
    url, store, box = toolkit_receiver
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {maintainer.key}"
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    created = api.post(
        f"{live_server.url}/api/v1/webhooks/", json={"url": url, "events": ["removal.approved"]}
    )
    assert created.status_code == 201, created.text
    box["receiver"] = WebhookReceiver(store, secrets=[created.json()["secret"]])

    removals = record_removals(dataset, 3)
    wait_until(lambda: len(list(store.live())) == 3, timeout=60, what="the webhook to reach the store")
    assert {r["id"] for r in store.live()} == {r.public_id for r in removals}
    [event] = store.db.execute("SELECT id, type FROM webhook_events").fetchall()
    assert event[1] == "removal.approved"

    # The registry sends it again (a redelivery): 2xx, nothing changes, still one event applied.
    hook = created.json()["id"]
    [delivery] = api.get(f"{live_server.url}/api/v1/webhooks/{hook}/deliveries/").json()["results"]
    again = api.post(f"{live_server.url}/api/v1/webhooks/{hook}/deliveries/{delivery['id']}/redeliver/")
    assert again.status_code == 202, again.text
    wait_until(lambda: len(box["statuses"]) >= 2, timeout=60, what="the redelivery")
    assert box["statuses"] == ["200 OK", "200 OK"]
    assert store.db.execute("SELECT count(*) FROM webhook_events").fetchone()[0] == 1
    assert len(list(store.live())) == 3


def test_the_receiver_refuses_bad_signatures_and_old_replays_and_applies_revocations(toolkit_receiver):
    url, store, box = toolkit_receiver
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    box["receiver"] = WebhookReceiver(
        store, secrets=["whsec_" + "c2Vjb25kIHNlY3JldCBvZiBhIHJvdGF0aW9u", secret]
    )
    signer = Webhook(secret)
    removal = {
        "id": "rm_1",
        "dataset": "d",
        "url": "https://img.example/1.jpg",
        "phash": None,
        "pdq": None,
        "state": "delivered",
    }

    def send(
        event_id: str, body: dict, *, sign_with: Webhook = signer, at: float | None = None, tamper=False
    ):
        import datetime as dt
        import json

        data = json.dumps(body)
        stamp = dt.datetime.fromtimestamp(at if at is not None else time.time(), tz=dt.UTC)
        headers = {
            "webhook-id": event_id,
            "webhook-timestamp": str(int(stamp.timestamp())),
            "webhook-signature": sign_with.sign(event_id, stamp, data),
            "content-type": "application/json",
        }
        return requests.post(url, data=(data + " ") if tamper else data, headers=headers, timeout=10)

    approved = {
        "type": "removal.approved",
        "timestamp": "2026-01-01T00:00:00Z",
        "data": {"dataset": "d", "removals": [removal]},
    }
    assert send("msg_1", approved).status_code == 200
    assert store.state_of("rm_1") == "delivered"
    # A body changed on the way, a secret that is not ours, a message captured and replayed an hour later.
    assert send("msg_2", approved, tamper=True).status_code == 401
    assert (
        send("msg_3", approved, sign_with=Webhook("whsec_" + "b3RoZXIgc2VjcmV0IGZvciB0ZXN0cw==")).status_code
        == 401
    )
    late = send("msg_1", approved, at=time.time() - 3600)
    assert late.status_code == 401 and "too old" in late.json()["message"]
    assert requests.post(url, data=b"{}", timeout=10).status_code == 401  # no headers at all
    assert store.db.execute("SELECT count(*) FROM webhook_events").fetchone()[0] == 1

    revoked = {
        "type": "removal.revoked",
        "timestamp": "2026-01-02T00:00:00Z",
        "data": {"dataset": "d", "removals": [{**removal, "state": "revoked"}]},
    }
    assert send("msg_4", revoked).status_code == 200
    assert store.state_of("rm_1") == "revoked" and list(store.live()) == []
    # The approval retried after the revocation (at least once, any order) does not bring it back.
    assert send("msg_5", approved).status_code == 200
    assert store.state_of("rm_1") == "revoked"
    # The same id again: applied before, 200, nothing changes.
    again = send("msg_4", revoked)
    assert again.status_code == 200 and "applied before" in again.json()["message"]
    assert requests.get(url, timeout=10).status_code == 405
