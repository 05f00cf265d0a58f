"""Beat's sweeps pick up what no task finished: works left pending, re-matching runs not done."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from config.celery import app
from registry import services as registry_services
from registry.hashing import compute_hashes, sanitize
from registry.models import Removal
from requests_app import services, tasks
from requests_app.models import HashState, RemovalRequest, Work
from tests.helpers import image_bytes, item_row, photo, photo_bytes, wait_until


def _stored_work(ticket: RemovalRequest, name: str, *, hashed: bool) -> Work:
    """A work as an upload stores it, whose task message was lost or failed for good."""
    clean = sanitize(photo_bytes(name), max_pixels=10**8)
    work = Work(
        artist=ticket.artist,
        request=ticket,
        original_name=name,
        sha256=name,
        size_bytes=len(clean.content),
        format=clean.format,
        width=clean.width,
        height=clean.height,
    )
    work.file.save(f"{name}.{clean.extension}", ContentFile(clean.content), save=False)
    if hashed:  # hashing finished, matching never did
        h = compute_hashes(clean.content, max_pixels=10**8)
        work.phash, work.dhash, work.pdq, work.phash_variants = (
            h.phash,
            h.dhash,
            h.pdq,
            list(h.phash_variants),
        )
    work.save()
    Work.objects.filter(pk=work.pk).update(created_at=timezone.now() - timedelta(minutes=3))
    return work


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_hashing_sweep_requeues_works_left_pending(celery_worker_process, artist):
    ticket = services.request_create(artist=artist, basis="copyright")
    never_hashed = _stored_work(ticket, "coffee.png", hashed=False)
    never_matched = _stored_work(ticket, "chelsea.png", hashed=True)
    fresh = _stored_work(ticket, "camera.png", hashed=False)
    Work.objects.filter(pk=fresh.pk).update(created_at=timezone.now())  # its task may still be on its way
    assert sorted(services.hashing_due()) == sorted([never_hashed.pk, never_matched.pk])
    assert tasks.hashing_sweep() == 2
    wait_until(
        lambda: (
            set(Work.objects.filter(hash_state=HashState.DONE).values_list("pk", flat=True))
            == {never_hashed.pk, never_matched.pk}
        ),
        what="the worker to hash and match both swept works",
    )
    assert services.hashing_due() == []


@pytest.fixture
def eager_celery():
    """Tasks queued by a task run in this process (Celery's eager mode), in the test's transaction."""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_the_rematch_sweep_runs_rematching_that_never_finished(eager_celery, artist, moderator, maintainer):
    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    small = image_bytes(photo("coffee.png").convert("RGB").resize((300, 200)), "JPEG", quality=70)
    registry_services.items_upsert(
        dataset=dataset, rows=[item_row("confirmed", small), item_row("repost", small)]
    )
    ticket = services.request_create(artist=artist, basis="copyright")
    [work] = services.works_add(
        ticket=ticket,
        actor=artist.user,
        files=[SimpleUploadedFile("coffee.png", photo_bytes("coffee.png"))],
    ).works
    services.work_hash_and_match(work_id=work.pk)
    matches = {m.item.external_id: m for m in work.matches.select_related("item")}
    services.matches_decide(ticket=ticket, actor=artist.user, confirm=[matches["confirmed"].pk])
    services.request_submit(ticket=ticket, actor=artist.user, signed_name="Ada Lovelace")
    services.request_approve(ticket=ticket, moderator=moderator)
    # The re-matching task queued at approval never ran (here: the transaction's after-commit
    # hook never fires), so the repost is not removed yet.
    repost = dataset.items.get(external_id="repost")
    assert not Removal.objects.filter(item=repost).exists()
    assert services.rematch_due() == []  # not due before the task had its chance
    RemovalRequest.objects.filter(pk=ticket.pk).update(decided_at=timezone.now() - timedelta(minutes=3))
    assert services.rematch_due() == [ticket.reference]

    assert tasks.rematch_sweep() == 1
    assert Removal.objects.filter(source_ref=ticket.reference, item=repost).exists()
    ticket.refresh_from_db()
    assert ticket.rematched_at is not None
    assert services.rematch_due() == []
    assert tasks.rematch_sweep() == 0
