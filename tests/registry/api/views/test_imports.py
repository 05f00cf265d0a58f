"""/datasets/{slug}/imports/ and /imports/{id}/: an upload is queued, its progress and bad rows reported;
bad uploads are explained and another organisation's imports are not there."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile

from registry import services
from registry.models import ImportJob
from tests.helpers import assert_error, import_run_now, index_csv


def test_the_api_takes_a_file_and_reports_progress(api, dataset, django_capture_on_commit_callbacks):
    upload = SimpleUploadedFile("index.csv", index_csv(30, bad_every=10), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post("/api/v1/datasets/d/imports/", {"file": upload}, format="multipart")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and body["id"].startswith("imp_") and len(callbacks) == 1
    import_run_now(ImportJob.objects.get(public_id=body["id"]))
    done = api.get(f"/api/v1/imports/{body['id']}").json()
    assert (done["status"], done["processed"], done["total"], done["error_count"]) == ("succeeded", 30, 30, 3)
    assert [e["line"] for e in done["errors"]] == [2, 12, 22]


def test_the_api_explains_bad_uploads_and_hides_other_organisations_imports(api, dataset, other_maintainer):
    assert_error(api.post("/api/v1/datasets/d/imports/", {}, format="multipart"), 400, "file_missing")
    empty = SimpleUploadedFile("x.csv", b"", content_type="text/csv")
    assert_error(
        api.post("/api/v1/datasets/d/imports/", {"file": empty}, format="multipart"), 400, "unreadable_file"
    )
    assert_error(
        api.post("/api/v1/datasets/d/imports/", {"items": []}, format="json"), 415, "unsupported_media_type"
    )
    theirs = services.dataset_create(maintainer=other_maintainer.maintainer, slug="t", name="T")
    job = services.import_create(dataset=theirs, upload=io.BytesIO(index_csv(1)), name="x.csv")
    assert_error(api.get(f"/api/v1/imports/{job.public_id}/"), 404, "not_found")
