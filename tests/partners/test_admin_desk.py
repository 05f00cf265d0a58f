"""The partners' desk in the admin, as a logged-in moderator: the list of rows left to a person with
their evidence side by side, the row's page, and the approve, decline and mark actions."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from partners import services
from partners.models import (
    FilingRow,
    PartnerAction,
    PartnerActionKind,
    PartnerKey,
    RowState,
    SampleState,
)
from registry.models import Removal
from tests.helpers import french_client, logged_in, make_request, messages_of, partner_row, photo_url

DESK = "/admin/partners/deskrow/"


def file_and_run(partner, rows):
    key = PartnerKey.objects.get(partner=partner.partner)
    filing = services.filing_create(key=key, rows=rows, attestation=True).filing
    return services.filing_run(services.filing_claim(filing.pk))


def test_the_desk_lists_rows_left_to_a_person_with_their_evidence(
    moderator, partner, photo_dataset, auto_policy, artist
):
    ticket = make_request(artist, "chelsea.png")
    filing = file_and_run(
        partner,
        [
            partner_row(0, work_url=photo_url("chelsea.png")),  # in conflict with the artist
            partner_row(1, work_url=photo_url("coffee.png"), phash=None),  # no hashes: waits
            partner_row(2, work_url=photo_url("astronaut.png")),  # approved by policy: not listed
        ],
    )
    desk = logged_in(moderator)
    page = desk.get(DESK)
    assert page.status_code == 200
    listed = {row.index: row for row in page.context["cl"].result_list}
    assert set(listed) == {0, 1}
    text = page.content.decode()
    assert ticket.reference in text and "verified" in text and "same URL" in text
    assert f"{filing.public_id[:11]}" in text
    conflict = desk.get(f"{DESK}{listed[0].pk}/change/").content.decode()
    assert (
        ticket.reference in conflict and "Ada Lovelace" in conflict and "the same registered item" in conflict
    )
    assert photo_url("chelsea.png") in conflict and "on a verified domain" in conflict
    assert desk.get(f"{DESK}?state__exact=conflict").context["cl"].result_count == 1
    assert desk.get(f"{DESK}?filing={filing.pk}").context["cl"].result_count == 2


def test_the_list_reads_its_evidence_per_page_not_per_row(moderator, partner, photo_dataset):
    file_and_run(partner, [partner_row(i, work_url=photo_url("coffee.png")) for i in range(3)])
    desk = logged_in(moderator)
    desk.get(DESK)  # sessions, permissions: warmed up
    with CaptureQueriesContext(connection) as few:
        desk.get(DESK)
    file_and_run(partner, [partner_row(i, work_url=photo_url("chelsea.png")) for i in range(3, 30)])
    with CaptureQueriesContext(connection) as many:
        assert desk.get(DESK).context["cl"].result_count == 30
    assert len(many) <= len(few) + 2, [q["sql"][:120] for q in many.captured_queries]


def test_a_moderator_approves_and_declines_from_the_desk(moderator, partner, partner_dataset):
    filing = file_and_run(partner, [partner_row(i) for i in range(3)])
    rows = list(filing.rows.order_by("index"))
    desk = logged_in(moderator)
    done = desk.post(DESK, {"action": "approve", "_selected_action": [rows[0].pk, rows[1].pk]}, follow=True)
    assert "Approved 2 rows. 2 removals recorded." in messages_of(done)
    assert Removal.objects.filter(source_ref=filing.public_id).count() == 2
    audit = PartnerAction.objects.get(kind=PartnerActionKind.ROWS_APPROVED_BY_DESK)
    assert audit.actor == moderator
    asked = desk.post(DESK, {"action": "decline", "_selected_action": [rows[2].pk]})
    assert asked.status_code == 200 and "Why?" in asked.content.decode()
    desk.post(
        DESK, {"action": "decline", "_selected_action": [rows[2].pk], "apply": "1", "reason": "Not theirs"}
    )
    declined = FilingRow.objects.get(pk=rows[2].pk)
    assert declined.state == RowState.DECLINED and declined.decision_reason == "Not theirs"
    assert desk.get(DESK).context["cl"].result_count == 0


def test_a_moderator_marks_sampled_rows_and_the_sample_passes(moderator, partner, partner_dataset):
    services.filing_policy_update(
        policy=partner.partner.policy, auto_approve_verified_hashed=True, sample_size=2
    )
    filing = file_and_run(partner, [partner_row(i) for i in range(4)])
    sampled = list(filing.rows.filter(state=RowState.SAMPLED).values_list("pk", flat=True))
    desk = logged_in(moderator)
    page = desk.get(f"{DESK}?state__exact=sampled")
    assert page.context["cl"].result_count == 2 and "Not marked" in page.content.decode()
    asked = desk.post(DESK, {"action": "mark_bad", "_selected_action": sampled[:1]})
    assert "What is wrong?" in asked.content.decode()
    done = desk.post(DESK, {"action": "mark_good", "_selected_action": sampled}, follow=True)
    assert any("sample passed" in m for m in messages_of(done))
    # The admin capitalises a message's first letter: a filing's id never starts one ("Pf_...").
    assert f"Filing {filing.public_id}: sample passed" in done.content.decode()
    filing.refresh_from_db()
    assert filing.sample_state == SampleState.PASSED


def test_people_outside_the_desk_decide_nothing(partner, partner_dataset):
    from django.contrib.auth.models import User

    filing = file_and_run(partner, [partner_row(0)])
    row = filing.rows.get()
    staff = User.objects.create_user("staff@example.com", "staff@example.com", "pw", is_staff=True)
    outsider = logged_in(staff)
    assert outsider.get(DESK).status_code == 403
    outsider.post(DESK, {"action": "approve", "_selected_action": [row.pk]})
    assert FilingRow.objects.get(pk=row.pk).state == RowState.WAITING


def test_a_hostile_selection_is_refused_with_a_message(moderator, partner, partner_dataset):
    file_and_run(partner, [partner_row(0)])
    desk = logged_in(moderator)
    response = desk.post(DESK, {"action": "approve", "_selected_action": ["²"]}, follow=True)
    assert any("not a row id" in m for m in messages_of(response))
    assert desk.get(f"{DESK}?filing=%00").status_code == 302
    assert not Removal.objects.exists()


def test_a_moderator_asks_for_a_refused_image_to_be_fetched_again(
    moderator, local_partner, photo_dataset, image_site, settings
):
    from partners.models import PartnerAction, PartnerActionKind

    settings.PARTNER_IMAGE_FETCH_ATTEMPTS = 1
    url = image_site.serve("/down.png", (503, {}, b"down"))
    filing = file_and_run(local_partner, [partner_row(0, phash=None, image_url=url)])
    row = filing.rows.get()
    desk = logged_in(moderator)
    listed = desk.get(DESK).content.decode()
    assert "image_url could not be fetched" in listed
    done = desk.post(DESK, {"action": "fetch_images_again", "_selected_action": [row.pk]}, follow=True)
    assert "1 image will be fetched again by the worker." in messages_of(done)
    assert FilingRow.objects.get(pk=row.pk).error == ""
    assert PartnerAction.objects.get(kind=PartnerActionKind.IMAGES_FETCHED_AGAIN).actor == moderator
    assert "not matched yet" in desk.get(DESK).content.decode()


def test_the_desk_reads_in_french_for_a_moderator_who_chose_it(
    moderator, partner, photo_dataset, auto_policy
):
    file_and_run(partner, [partner_row(0, work_url=photo_url("coffee.png"), phash=None)])
    html = french_client(moderator).get(DESK).content.decode()
    work_url = "URL de l’œuvre"  # noqa: RUF001 (the French catalogue writes apostrophes as U+2019)
    for text in ("Partenaire", "Créateur", work_url, "Par dépôt", "Approuver pour le partenaire"):
        assert text in html, text
    assert "Approve for the partner" not in html
