"""requests_app.services.completion: hashing then matching as two steps, and re-matching after
approval (request_rematch), seen from the artist's request."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from registry import services as registry_services
from registry.models import Removal
from registry.services import rematch
from requests_app import services
from requests_app.models import EventKind, HashState, MatchState, Work
from tests.helpers import image_bytes, item_row, photo, photo_bytes


def test_hashing_leaves_the_work_pending_until_matching_runs(artist, maintainer):
    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    registry_services.items_upsert(dataset=dataset, rows=[item_row("cat", photo_bytes("chelsea.png"))])
    ticket = services.request_create(artist=artist, basis="copyright")
    [work] = services.works_add(
        ticket=ticket, actor=artist.user, files=[SimpleUploadedFile("cat.png", photo_bytes("chelsea.png"))]
    ).works
    assert services.work_hash(work_id=work.pk) == "hashed"
    work.refresh_from_db()
    assert work.hash_state == HashState.PENDING and work.phash is not None and not work.matches.exists()
    assert services.work_hash(work_id=work.pk) == "hashed"  # a repeated message only re-queues matching
    assert services.work_match(work_id=work.pk) == "done"
    assert services.work_match(work_id=work.pk) == "already-done"
    work.refresh_from_db()
    assert work.hash_state == HashState.DONE and work.matches.count() == 1


def test_a_broken_stored_file_fails_hashing_with_its_reason(artist):
    ticket = services.request_create(artist=artist, basis="copyright")
    [work] = services.works_add(
        ticket=ticket, actor=artist.user, files=[SimpleUploadedFile("cat.png", photo_bytes("chelsea.png"))]
    ).works
    with work.file.open("wb") as handle:
        handle.write(b"garbage")
    assert services.work_hash(work_id=work.pk) == "failed"
    work = Work.objects.get(pk=work.pk)
    assert work.hash_state == HashState.FAILED and "not an image" in work.hash_error


def test_approval_finds_other_copies_but_never_the_excluded_ones_and_tells_the_artist(
    artist, moderator, maintainer, mailoutbox
):
    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    small = image_bytes(photo("coffee.png").convert("RGB").resize((300, 200)), "JPEG", quality=70)
    registry_services.items_upsert(
        dataset=dataset,
        rows=[item_row("confirmed", small), item_row("excluded", small)],
    )
    ticket = services.request_create(artist=artist, basis="copyright")
    [work] = services.works_add(
        ticket=ticket,
        actor=artist.user,
        files=[SimpleUploadedFile("coffee.png", photo_bytes("coffee.png"))],
    ).works
    services.work_hash_and_match(work_id=work.pk)
    matches = {m.item.external_id: m for m in work.matches.select_related("item")}
    services.matches_decide(
        ticket=ticket,
        actor=artist.user,
        confirm=[matches["confirmed"].pk],
        exclude=[matches["excluded"].pk],
    )
    services.request_submit(ticket=ticket, actor=artist.user, signed_name="Ada Lovelace")
    services.request_approve(ticket=ticket, moderator=moderator)
    assert matches["excluded"].item_id not in Removal.objects.values_list("item_id", flat=True)

    # A copy that arrives after approval, in the same data set.
    registry_services.items_upsert(dataset=dataset, rows=[item_row("repost", small)])
    repost = dataset.items.get(external_id="repost")
    assert services.request_rematch(reference=ticket.reference) == 1
    assert Removal.objects.filter(source_ref=ticket.reference, item=repost).exists()
    assert not Removal.objects.filter(item=matches["excluded"].item).exists()
    assert services.request_copies_found(reference=ticket.reference) == 1
    event = ticket.events.filter(kind=EventKind.REMOVALS).last()
    assert event.message == "1 more copy of your works found in D (LAION-ish) and sent to the maintainers."
    assert event.params == {"text": "copies_found", "count": 1, "datasets": ["D (LAION-ish)"]}
    assert work.matches.get(pk=matches["excluded"].pk).state == MatchState.EXCLUDED
    # The registry-side sweep finds nothing new for the same items.
    assert rematch.items_rematch(item_ids=[repost.pk]) == []


def test_approval_records_the_hash_of_every_work_in_each_data_set_without_its_copy(
    artist, moderator, maintainer
):
    with_copy = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="a", name="A")
    registry_services.dataset_create(maintainer=maintainer.maintainer, slug="b", name="B")
    registry_services.items_upsert(dataset=with_copy, rows=[item_row("cat", photo_bytes("chelsea.png"))])
    ticket = services.request_create(artist=artist, basis="copyright")
    cat, coffee = services.works_add(
        ticket=ticket,
        actor=artist.user,
        files=[
            SimpleUploadedFile("cat.png", photo_bytes("chelsea.png")),
            SimpleUploadedFile("coffee.png", photo_bytes("coffee.png")),
        ],
    ).works
    for work in (cat, coffee):
        services.work_hash_and_match(work_id=work.pk)
    services.matches_decide(ticket=ticket, actor=artist.user, confirm=[cat.matches.get().pk])
    services.request_submit(ticket=ticket, actor=artist.user, signed_name="Ada Lovelace")
    services.request_approve(ticket=ticket, moderator=moderator)

    cat.refresh_from_db()
    coffee.refresh_from_db()
    removals = Removal.objects.filter(source_ref=ticket.reference)
    by_place = {(r.dataset.slug, r.external_id, r.phash) for r in removals}
    assert by_place == {
        ("a", "cat", cat.matches.get().item.phash),  # the copy, by its item
        ("b", None, cat.phash),  # the cat's hash where no copy of it was approved
        ("a", None, coffee.phash),  # the coffee had no copy anywhere: its hash, in every data set
        ("b", None, coffee.phash),
    }
    bare = removals.filter(item__isnull=True)
    assert all(r.url is None and r.pdq is not None and r.dhash is not None for r in bare)


def test_a_request_whose_works_have_no_copy_can_be_submitted_and_approved(artist, moderator, maintainer):
    registry_services.dataset_create(maintainer=maintainer.maintainer, slug="a", name="A")
    ticket = services.request_create(artist=artist, basis="copyright")
    [work] = services.works_add(
        ticket=ticket, actor=artist.user, files=[SimpleUploadedFile("cat.png", photo_bytes("chelsea.png"))]
    ).works
    services.work_hash_and_match(work_id=work.pk)
    services.request_submit(ticket=ticket, actor=artist.user, signed_name="Ada Lovelace")
    services.request_approve(ticket=ticket, moderator=moderator)
    work.refresh_from_db()
    [removal] = Removal.objects.filter(source_ref=ticket.reference)
    assert removal.item is None and removal.phash == work.phash
