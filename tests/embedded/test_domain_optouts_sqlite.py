"""Domain opt-outs on the embedded default (SQLite): the migration's index, the portable import
path keying hosts, the rule's INSERT ... SELECT, write-time matching, and the lookup."""

from __future__ import annotations

from tests.embedded.sqlite import script_result

SCRIPT = """
import io, json
from django.db import connection
from registry import services, selectors
from registry.hosts import Scope
from registry.models import DatasetItem, Removal, WebhookEvent
from tests.helpers import import_run_now

org, _key = services.maintainer_create(name="M", email="m@example.org")
dataset = services.dataset_create(maintainer=org, slug="d", name="D")
services.webhook_endpoint_create(maintainer=org, url="http://127.0.0.1:9/x", event_types=["removal.approved"])
body = b"external_id,url\\n" + b"".join(
    f"a{n},https://img.artist.example/art/{n}.jpg\\n".encode() for n in range(600)
) + b"b,https://artist.example/Art/b.jpg\\nc,https://notartist.example/art/c.jpg\\n"
job = services.import_create(dataset=dataset, upload=io.BytesIO(body), name="i.csv", enqueue=False)
import_run_now(job)
scopes = [Scope("artist.example", include_subdomains=True, path_prefix="/art/")]
counts = selectors.scope_item_counts(scopes)
done = services.domain_optouts_record(source_ref="RR-2026-000001", reason="copyright", scopes=scopes)
again = services.domain_optouts_record(source_ref="RR-2026-000001", reason="copyright", scopes=scopes)
later = io.BytesIO(b"external_id,url\\nz,https://www.artist.example/art/z.jpg\\ny,https://x.example/art/y.jpg\\n")
import_run_now(services.import_create(dataset=dataset, upload=later, name="j.csv", enqueue=False))
services.items_upsert(dataset=dataset, rows=[{"external_id": "u", "url": "https://artist.example/art/u.png"}])
with connection.cursor() as cursor:
    cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'item_host_path'")
    index = cursor.fetchone()
print("RESULT" + json.dumps({
    "vendor": connection.vendor,
    "index": bool(index),
    "counts": sum(counts[0].values()),
    "recorded": done.removals,
    "again": again.removals,
    "events": sorted(e.removals.count() for e in WebhookEvent.objects.all()),
    "later": sorted(
        Removal.objects.filter(external_id__in=list("zyubc")).values_list("external_id", flat=True)
    ),
    "ids": len(set(Removal.objects.values_list("public_id", flat=True))),
    "total": Removal.objects.count(),
    "lookup": sorted(selectors.removed_urls(["https://cdn.artist.example/art/new.jpg", "https://artist.example/other.jpg"])),
    "host": DatasetItem.objects.get(external_id="b").host,
}))
"""


def test_domain_opt_outs_on_sqlite(tmp_path):
    # The endpoint the script registers is never called: no worker runs.
    result = script_result(tmp_path, SCRIPT, OUTBOUND_ALLOW_LOOPBACK="1")
    assert result["vendor"] == "sqlite" and result["index"]
    assert (result["counts"], result["recorded"], result["again"]) == (600, 600, 0)
    assert result["events"] == [1, 1, 100, 500]  # the rule (600 in events of 500), then z and u
    assert result["later"] == ["u", "z"]  # /Art/ is not /art/; notartist and x.example stay
    assert result["ids"] == result["total"] == 602
    assert result["lookup"] == ["https://cdn.artist.example/art/new.jpg"]
    assert result["host"] == "example.artist."
