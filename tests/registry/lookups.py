"""The look-up tests' client of a live server and their world of removals
(tests/registry/test_lookup_index.py, tests/registry/test_lookup_same_answers.py)."""

from __future__ import annotations

import json
import time
from typing import Any

import requests

from registry import services
from registry.lookup_index import current_index
from registry.services.removals import RemovalQuery


class Looker:
    """Look-ups through the live server, with the maintainer's key: each answer's bytes, for the
    tests that compare them, and the same answers parsed."""

    def __init__(self, base: str, key: str) -> None:
        self.base = base
        self.session = requests.Session()
        self.key = key

    def v1_bytes(self, urls: list[str]) -> bytes:
        body = json.dumps({"urls": urls}).encode()
        return self._post("/api/v1/lookup/", body, "Bearer", "application/json")

    def v2_bytes(self, urls: list[str]) -> bytes:
        return self._post("/api/v2/query/urls/", "\n".join(urls).encode(), "API", "text/plain")

    def v1(self, urls: list[str]) -> dict[str, Any]:
        return dict(json.loads(self.v1_bytes(urls)))

    def v2(self, urls: list[str]) -> list[dict[str, Any]]:
        return list(json.loads(self.v2_bytes(urls))["urls"])

    def removed(self, urls: list[str]) -> set[str]:
        """Removed per v1 and per v2, which must agree."""
        by_v1 = {u for u, yes in self.v1(urls)["urls"].items() if yes}
        assert by_v1 == {a["url"] for a in self.v2(urls) if a["optOut"]}
        return by_v1

    def warm(self) -> None:
        """One look-up (which starts the build), then wait until the index answers."""
        self.v1(["https://img.example/cat.jpg"])
        deadline = time.monotonic() + 30
        while current_index().state != "ready":
            assert time.monotonic() < deadline, "the look-up index was not built within 30 s"
            time.sleep(0.02)

    def _post(self, path: str, body: bytes, scheme: str, content_type: str) -> bytes:
        answer = self.session.post(
            self.base + path,
            data=body,
            headers={"Authorization": f"{scheme} {self.key}", "Content-Type": content_type},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text[:300]
        return answer.content


def removals_written(
    maintainer: Any, urls: list[str], *, by_artist: list[str], by_partner: list[str], revoked: list[str]
) -> tuple[Any, dict[str, Any]]:
    """A data set "d" holding `urls`, some removed by an artist (RR-2026-000001), some by a
    partner that allows search (PF-1, Gallery), and the removals of `revoked` revoked; the data
    set and its items by URL."""
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    services.items_upsert(
        dataset=dataset, rows=[{"external_id": str(n), "url": u} for n, u in enumerate(urls)]
    )
    items = {i.url: i for i in dataset.items.all()}
    services.removals_record(
        source_ref="RR-2026-000001",
        reason="copyright",
        entries=[services.RemovalEntry(dataset=dataset, item=items[u]) for u in by_artist],
    )
    services.removals_record(
        source_ref="PF-1",
        reason="copyright",
        source="partner",
        partner="Gallery",
        search="allowed",
        entries=[services.RemovalEntry(dataset=dataset, item=items[u]) for u in by_partner],
    )
    services.removals_revoke(removals=RemovalQuery("r.url = ANY(%s::text[])", [revoked]), why="Lifted.")
    return dataset, items
