"""A domain rule's choice on the embedded default (SQLite): a licensing rule's grants (at record
and at write time), a change of choice revoking them and recording removals (the revocation's SQL
on SQLite), and a revoked licensing rule's grants withdrawn."""

from __future__ import annotations

from tests.embedded.sqlite import script_result

SCRIPT = """
import json
from registry import services, selectors
from registry.hosts import Scope
from registry.models import LicenceGrant, Removal
from registry.preferences import consent_clean

org, _key = services.maintainer_create(name="M", email="m@example.org")
dataset = services.dataset_create(maintainer=org, slug="d", name="D")
services.items_upsert(dataset=dataset, rows=[
    {"external_id": "a", "url": "https://artist.example/art/a.jpg"},
    {"external_id": "b", "url": "https://x.example/art/b.jpg"},
])
ref = "RR-2026-000001"
scopes = [Scope("artist.example", path_prefix="/art/")]
cc0 = consent_clean(choice="licence", licence="cc0")
done = services.domain_optouts_record(source_ref=ref, reason="copyright", scopes=scopes, consent=cc0)
services.items_upsert(dataset=dataset, rows=[{"external_id": "c", "url": "https://artist.example/art/c.jpg"}])
granted = sorted(LicenceGrant.objects.filter(state="active").values_list("external_id", flat=True))
urls = ["https://artist.example/art/new.jpg"]
licensed = sorted(selectors.optouts_covering(urls, licensing=True))
removed_before = sorted(selectors.removed_urls(urls))
changed = services.domain_optouts_choice_set(source_ref=ref, consent=consent_clean(choice="search_only"))
after = sorted(Removal.objects.exclude(state="revoked").values_list("external_id", "search"))
removed_after_change = sorted(selectors.removed_urls(urls))
services.domain_optouts_choice_set(source_ref=ref, consent=cc0)
services.domain_optouts_revoke(source_ref=ref)
print("RESULT" + json.dumps({
    "grants": done.grants,
    "granted": granted,
    "licensed": licensed,
    "removed_before": removed_before,
    "changed": [changed.revoked, changed.removed, changed.granted],
    "after": after,
    "removed_after_change": removed_after_change,
    "live_grants_at_end": LicenceGrant.objects.filter(state="active").count(),
    "live_removals_at_end": Removal.objects.exclude(state="revoked").count(),
}))
"""


def test_domain_choices_on_sqlite(tmp_path):
    result = script_result(tmp_path, SCRIPT)
    assert (result["grants"], result["granted"]) == (1, ["a", "c"])
    assert result["licensed"] == ["https://artist.example/art/new.jpg"] and result["removed_before"] == []
    assert result["changed"] == [2, 2, 0]
    assert result["after"] == [["a", "allowed"], ["c", "allowed"]]
    assert result["removed_after_change"] == ["https://artist.example/art/new.jpg"]
    assert (result["live_grants_at_end"], result["live_removals_at_end"]) == (0, 0)
