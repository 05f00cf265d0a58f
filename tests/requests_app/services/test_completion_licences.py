"""A request whose works are all licensed completes at approval (a licence asks nothing of
maintainers to acknowledge), and its receipt says what was recorded; a request of removals still
completes only once they are acknowledged."""

from __future__ import annotations

from django.utils import translation

from registry import services as registry_services
from registry.models import Removal
from requests_app import services
from requests_app import timeline as timeline_text
from requests_app.models import TicketEvent
from requests_app.workflow import Status
from tests.helpers import dataset_with_copy, make_request

COPY = "https://img.example/cat.jpg"
CC_BY = {"choice": "licence", "licence": "cc-by", "attribution": "Photo: A. Artist"}


def _receipt(ticket) -> list[str]:
    return [timeline_text.event_text(e) for e in TicketEvent.objects.filter(request=ticket).order_by("pk")]


def _submitted(artist, **default):
    ticket = make_request(artist, "chelsea.png", submit=False)
    if default:
        services.request_choice_set(actor=artist.user, ticket=ticket, **default)
    services.matches_decide(
        ticket=ticket,
        actor=artist.user,
        confirm=list(ticket.works.get().matches.values_list("pk", flat=True)),
    )
    services.request_submit(ticket=ticket, actor=artist.user, signed_name=artist.display_name)
    return ticket


def test_an_all_licensed_request_completes_at_approval_and_says_what_was_recorded(
    artist, moderator, maintainer
):
    dataset_with_copy(maintainer, slug="d", name="D", url=COPY)
    ticket = _submitted(artist, **CC_BY)
    services.request_approve(ticket=ticket, moderator=moderator)
    ticket.refresh_from_db()
    assert ticket.status == Status.COMPLETED and ticket.completed_at is not None
    assert not Removal.objects.filter(source_ref=ticket.reference).exists()
    receipt = _receipt(ticket)
    assert any("licence grant stands, sent to the maintainers" in row for row in receipt), receipt
    assert not any("confirmed the removal" in row for row in receipt)
    with translation.override("fr"):
        assert any("Demande terminée : 1 licence accordée" in row for row in _receipt(ticket))


def test_beside_a_licensed_request_a_removal_request_still_waits_for_its_acknowledgement(
    artist, moderator, maintainer, django_capture_on_commit_callbacks
):
    dataset = dataset_with_copy(maintainer, slug="d", name="D", url=COPY)
    licensed = _submitted(artist, **CC_BY)
    services.request_approve(ticket=licensed, moderator=moderator)
    removed = make_request(artist, "chelsea.png", fmt="JPEG")
    services.request_approve(ticket=removed, moderator=moderator)
    removed.refresh_from_db()
    assert removed.status == Status.APPROVED  # its removal waits for the maintainer
    ids = list(Removal.objects.filter(source_ref=removed.reference).values_list("public_id", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        registry_services.removals_acknowledge(dataset=dataset, ids=ids)
    removed.refresh_from_db()
    assert removed.status == Status.COMPLETED
    assert any("confirmed the removal" in row for row in _receipt(removed))


def test_a_request_turned_from_removal_to_licence_after_approval_completes(artist, moderator, maintainer):
    dataset_with_copy(maintainer, slug="d", name="D", url=COPY)
    ticket = _submitted(artist)
    services.request_approve(ticket=ticket, moderator=moderator)
    ticket.refresh_from_db()
    assert ticket.status == Status.APPROVED
    services.request_choice_set(actor=artist.user, ticket=ticket, **CC_BY)
    ticket.refresh_from_db()
    assert ticket.status == Status.COMPLETED
    assert any("licence grant stands" in row for row in _receipt(ticket))


def test_an_approved_request_that_recorded_nothing_does_not_complete(artist):
    assert services.request_complete_if_acknowledged(reference="RR-2026-999999") is False


def test_a_later_copy_of_a_licensed_work_is_granted_and_the_timeline_says_so_in_both_languages(
    artist, moderator, maintainer, django_capture_on_commit_callbacks, mailoutbox
):
    from registry.hashing import code_to_hex, compute_hashes
    from registry.models import LicenceGrant
    from registry.services import rematch
    from tests.helpers import image_bytes, photo

    dataset_with_copy(maintainer, slug="d", name="D", url=COPY)
    ticket = _submitted(artist, **CC_BY)
    services.request_approve(ticket=ticket, moderator=moderator)
    ticket.refresh_from_db()
    later = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="v2", name="D v2")
    repost = image_bytes(photo("chelsea.png").convert("RGB").resize((320, 213)), "JPEG", quality=70)
    phash = code_to_hex(compute_hashes(repost, max_pixels=10**8).phash)
    registry_services.items_upsert(
        dataset=later, rows=[{"external_id": "r", "url": "https://repost.example/c.jpg", "phash": phash}]
    )
    item = later.items.get()
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        found = rematch.items_rematch(item_ids=[item.pk])
    assert found == []  # no removal: the copy is licensed, not removed
    grant = LicenceGrant.objects.get(item=item)
    assert (grant.source_ref, grant.licence) == (ticket.reference, "cc-by")
    assert grant.attribution == "Photo: A. Artist"
    [event] = TicketEvent.objects.filter(request=ticket, params__text="licences_extended")
    assert event.params == {"text": "licences_extended", "count": 1, "datasets": ["D v2 (LAION-ish)"]}
    assert timeline_text.event_text(event) == (
        "1 more copy of your licensed works found in D v2 (LAION-ish) and granted under the same licence."
    )
    with translation.override("fr"):
        assert timeline_text.event_text(event) == (
            "1 autre copie de vos œuvres sous licence trouvée dans D v2 (LAION-ish) "
            "et accordée sous la même licence."
        )
    assert any("granted under the same licence" in m.body for m in mailoutbox)
    # The same sweep again finds nothing new and writes no second row.
    with django_capture_on_commit_callbacks(execute=True):
        rematch.items_rematch(item_ids=[item.pk])
    assert TicketEvent.objects.filter(request=ticket, params__text="licences_extended").count() == 1


def test_a_partner_filing_s_rematched_grants_write_no_request_row(artist):
    assert services.request_licences_extended(reference="PF-2026-000001", per_dataset={1: 3}) == 0
