"""Filing's reads at scale: the duplicate look-up and a chunk's rows are read through their indexes,
so a batch costs the same whatever the partner filed before (bench/partner_filing.py).

The plans are read with sequential scans off: on a test's few rows a scan is cheapest, and what
matters is which index serves the query, as it does on millions of rows with stale statistics
(the look-up once read every row of the partner through filing_row_creator).
"""

from __future__ import annotations

import json

from django.db import connection
from django.test.utils import CaptureQueriesContext

from partners import services
from partners.models import FilingRow, PartnerKey
from tests.helpers import partner_row


def plan_of(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        (plan,) = cursor.fetchone()
    return json.dumps(plan)


def captured(run, marker: str) -> str:
    with CaptureQueriesContext(connection) as queries:
        run()
    found = [q["sql"] for q in queries.captured_queries if marker in q["sql"]]
    assert found, [q["sql"][:120] for q in queries.captured_queries]
    return found[0]


def file_rows(partner, rows):
    key = PartnerKey.objects.get(partner=partner.partner)
    return services.filing_create(key=key, rows=rows, attestation=True)


def test_it_looks_duplicates_up_one_index_probe_per_key(partner):
    # Enough rows that reading them all costs more than probing (on a page or two, both cost one read).
    file_rows(partner, [partner_row(i) for i in range(3000)])
    sql = captured(lambda: file_rows(partner, [partner_row(i) for i in range(2995, 3010)]), "unnest")
    plan = plan_of(sql)
    assert "one_row_per_partner_key" in plan and "filing_row_creator" not in plan, plan
    second = FilingRow.objects.filter(filing__total=15)
    assert second.filter(state="duplicate").count() == 5 and second.filter(state="pending").count() == 10


def test_a_chunk_reads_its_rows_in_order_from_the_filing_state_index(partner):
    filing = file_rows(partner, [partner_row(i) for i in range(20)]).filing
    claimed = services.filing_claim(filing.pk)
    sql = captured(lambda: services.filing_decide_chunk(filing=claimed, chunk=5), "LIMIT 5")
    plan = plan_of(sql)
    assert "filing_row_state_id" in plan and '"Sort"' not in plan, plan


def test_the_rows_waiting_for_an_image_are_found_by_their_own_index(partner):
    filing = file_rows(partner, [partner_row(i) for i in range(20)]).filing
    claimed = services.filing_claim(filing.pk)
    sql = captured(lambda: services.images_prepare(filing=claimed, limit=5), "image_fetched_at")
    plan = plan_of(sql)
    assert "filing_row_needs_image" in plan and '"Sort"' not in plan, plan
