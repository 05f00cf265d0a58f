"""A partner reads back which of its rows a creator lifted: each row carries `lifted_at`, and
`?lifted=true|false` lists only the lifted rows of a filing, or only the others, paginated as any
rows; another value is refused, and another partner's filing stays a 404."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.db import connection

from partners import services
from partners.models import FilingRow, PartnerKey
from tests.helpers import PARTNER_HOST, assert_error, partner_row

FILE = "/api/v1/partner/filings/"
ADA = {"id": "Ada", "profile_url": f"https://{PARTNER_HOST}/u/ada", "email": "ada@creators.example"}


@pytest.fixture
def lifted(partner, partner_dataset, auto_policy, artist):
    """Ada's works 0 to 3 filed and approved; Ada claimed them and lifted works 1 and 3."""
    key = PartnerKey.objects.get(partner=partner.partner)
    rows = [partner_row(i, creator=ADA) for i in range(4)]
    filing = services.filing_create(key=key, rows=rows, attestation=True).filing
    filing = services.filing_run(services.filing_claim(filing.pk))
    creator = services.creator_find(partner=partner.partner, creator_id="Ada")
    _, token = services.claim_email_token(user=artist.user, creator=creator)
    claim = services.claim_by_email(user=artist.user, token=token)
    ids = list(FilingRow.objects.filter(filing=filing, index__in=[1, 3]).values_list("pk", flat=True))
    services.claim_lift(claim=claim, user=artist.user, row_ids=ids)
    return filing


def _rows(partner_api, filing, query=""):
    response = partner_api.get(f"{FILE}{filing.public_id}/rows/{query}")
    assert response.status_code == 200, response.content
    return response.json()


def test_each_row_says_when_its_creator_lifted_it(lifted, partner_api):
    rows = _rows(partner_api, lifted)["results"]
    assert [r["lifted_at"] is not None for r in rows] == [False, True, False, True]
    at = FilingRow.objects.get(filing=lifted, index=1).lifted_at
    assert datetime.fromisoformat(rows[1]["lifted_at"].replace("Z", "+00:00")) == at
    # A lifted row keeps its state: it was approved, then lifted.
    assert {r["state"] for r in rows} == {"approved"}


def test_the_lifted_filter_lists_the_lifted_rows_or_the_others(lifted, partner_api):
    assert [r["index"] for r in _rows(partner_api, lifted, "?lifted=true")["results"]] == [1, 3]
    assert [r["index"] for r in _rows(partner_api, lifted, "?lifted=false")["results"]] == [0, 2]
    both = _rows(partner_api, lifted, "?lifted=true&state=approved")["results"]
    assert [r["index"] for r in both] == [1, 3]
    assert _rows(partner_api, lifted, "?lifted=true&state=waiting")["results"] == []
    first = _rows(partner_api, lifted, "?lifted=true&limit=1")
    assert [r["index"] for r in first["results"]] == [1] and first["next"]
    rest = _rows(partner_api, lifted, f"?lifted=true&limit=1&cursor={first['next']}")
    assert [r["index"] for r in rest["results"]] == [3] and rest["next"] is None


@pytest.mark.parametrize("value", ["yes", "1", "True", "", "true\x00"])
def test_another_value_of_lifted_is_refused(lifted, partner_api, value):
    error = assert_error(
        partner_api.get(f"{FILE}{lifted.public_id}/rows/", {"lifted": value}), 400, "invalid_lifted"
    )
    assert error["details"] == {"accepted": ["true", "false"]}


def test_another_partner_reads_nothing_of_it(lifted, other_partner):
    assert_error(other_partner.client().get(f"{FILE}{lifted.public_id}/rows/?lifted=true"), 404, "not_found")


def test_the_lifted_rows_are_read_from_their_own_index(lifted):
    from partners import selectors

    sql, params = selectors.rows_of(lifted, lifted=True).order_by("pk")[:100].query.sql_with_params()
    with connection.cursor() as cursor:
        # A test's table is tiny: a sequential scan would win; the question is whether the index fits.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "filing_row_lifted" in plan, plan
