"""Bulk index imports: CSV, NDJSON and Parquet; bad rows with line numbers; re-runs without duplicates."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from io import StringIO

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone

from registry import imports, services
from registry.hashing import code_to_hex
from registry.models import DatasetItem, ImportJob, ImportStatus
from tests.helpers import assert_error

PHASH = "b15fe6465121175e"


def run(job: ImportJob) -> ImportJob:
    claimed = services.import_claim(job.pk)
    assert claimed is not None
    return services.import_run(claimed)


def csv_bytes(n: int, *, bad_every: int = 0) -> bytes:
    lines = ["external_id,url,phash"]
    for i in range(n):
        phash = "nothex" if bad_every and i % bad_every == 0 else f"{i:016x}"
        lines.append(f"e{i},https://img.example/{i}.jpg,{phash}")
    return ("\n".join(lines) + "\n").encode()


def test_it_imports_csv_and_reports_bad_rows_with_line_numbers(dataset):
    data = (
        b"external_id,url,phash,dhash\n1,https://i.example/1.jpg,%s,\n2,notaurl,,\n3,https://i.example/3.jpg\n4,https://i.example/4.jpg,,\n"
        % PHASH.encode()
    )
    job = run(services.import_create(dataset=dataset, upload=io.BytesIO(data), name="index.csv"))
    assert job.status == ImportStatus.SUCCEEDED
    assert (job.total, job.processed, job.created_count, job.error_count) == (4, 4, 2, 2)
    assert job.errors == [
        {"line": 3, "error": "url 'notaurl' is not a valid http(s) URL"},
        {"line": 4, "error": "has 2 fields, the header has 4"},
    ]
    assert code_to_hex(DatasetItem.objects.get(external_id="1").phash) == PHASH


def test_it_imports_ndjson_and_parquet(dataset):
    ndjson = b"\n".join(
        [
            b'{"external_id": "a", "url": "https://i.example/a"}',
            b"{broken",
            b"[1]",
            b'{"external_id": "b", "url": "https://i.example/b", "pdq": "%s"}' % (b"0f" * 32),
        ]
    )
    job = run(services.import_create(dataset=dataset, upload=io.BytesIO(ndjson), name="index.ndjson"))
    assert (job.created_count, job.error_count) == (2, 2)
    assert [e["line"] for e in job.errors] == [2, 3]

    table = pa.table(
        {
            "external_id": ["a", "c"],
            "url": ["https://i.example/a2", "https://i.example/c"],
            "phash": [PHASH, None],
        }
    )
    out = io.BytesIO()
    pq.write_table(table, out)
    out.seek(0)
    job = run(services.import_create(dataset=dataset, upload=out, name="index.parquet"))
    assert (job.status, job.total, job.created_count, job.updated_count) == ("succeeded", 2, 1, 1)
    assert DatasetItem.objects.get(external_id="a").url == "https://i.example/a2"


def test_a_repeated_external_id_in_one_file_keeps_the_last_row(dataset):
    data = b"external_id,url\nx,https://i.example/1\nx,https://i.example/2\n"
    job = run(services.import_create(dataset=dataset, upload=io.BytesIO(data), name="i.csv"))
    assert job.status == "succeeded"
    assert list(DatasetItem.objects.values_list("url", flat=True)) == ["https://i.example/2"]


def test_it_refuses_files_it_cannot_read(dataset):
    for data, name, words in [
        (b"", "x.csv", "empty"),
        (b"\x00\x01binary", "x.bin", "not CSV"),
        (b"id,link\n1,https://i.example/\n", "x.csv", "must name external_id and url"),
        (b"PAR1garbage", "x.parquet", "cannot be read"),
    ]:
        try:
            job = services.import_create(dataset=dataset, upload=io.BytesIO(data), name=name)
        except imports.ImportFileError as exc:
            assert words in str(exc)
            continue
        job = run(job)
        assert job.status == ImportStatus.FAILED and words in job.message
    assert DatasetItem.objects.count() == 0


def test_an_interrupted_import_resumes_without_duplicates(dataset, monkeypatch):
    monkeypatch.setattr(imports, "BATCH", 100)
    job = services.import_create(dataset=dataset, upload=io.BytesIO(csv_bytes(450)), name="i.csv")
    claimed = services.import_claim(job.pk)

    calls = {"n": 0}
    real_write = imports.write_batch

    def dying_write(dataset_id, rows):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("the worker was killed")
        return real_write(dataset_id, rows)

    monkeypatch.setattr(imports, "write_batch", dying_write)
    with pytest.raises(KeyboardInterrupt):
        services.import_run(claimed)
    job.refresh_from_db()
    assert job.processed == 200 and job.status == ImportStatus.RUNNING
    assert DatasetItem.objects.count() == 200

    monkeypatch.setattr(imports, "write_batch", real_write)
    # A running job is only taken over once its heartbeat is stale.
    assert services.import_claim(job.pk) is None
    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=job.heartbeat_at - services.imports.STALE_AFTER * 2
    )
    job = services.import_run(services.import_claim(job.pk))
    assert (job.status, job.processed, job.created_count, job.updated_count) == ("succeeded", 450, 450, 0)
    assert DatasetItem.objects.count() == 450


def test_the_api_takes_a_file_and_reports_progress(api, dataset, django_capture_on_commit_callbacks):
    upload = SimpleUploadedFile("index.csv", csv_bytes(30, bad_every=10), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post("/api/v1/datasets/d/imports/", {"file": upload}, format="multipart")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and body["id"].startswith("imp_") and len(callbacks) == 1
    run(ImportJob.objects.get(public_id=body["id"]))
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
    job = services.import_create(dataset=theirs, upload=io.BytesIO(csv_bytes(1)), name="x.csv")
    assert_error(api.get(f"/api/v1/imports/{job.public_id}/"), 404, "not_found")


def test_the_command_imports_with_progress_and_explains_errors(dataset, tmp_path):
    path = tmp_path / "index.ndjson"
    path.write_text(
        "\n".join(json.dumps({"external_id": str(i), "url": f"https://i.example/{i}"}) for i in range(5))
    )
    out, err = StringIO(), StringIO()
    call_command("import_dataset", "d", str(path), stdout=out, stderr=err)
    assert "5 created, 0 updated, 0 rejected" in out.getvalue()
    assert "Importing into d" in err.getvalue()
    with pytest.raises(CommandError, match="No data set"):
        call_command("import_dataset", "nope", str(path))
    with pytest.raises(CommandError, match="not a readable file"):
        call_command("import_dataset", "d", str(tmp_path / "missing.csv"))


def test_memory_stays_flat_as_the_file_grows(dataset, monkeypatch):
    """Peak Python memory of an import does not grow with the number of rows (streamed, batched)."""
    import tracemalloc

    monkeypatch.setattr(imports, "BATCH", 2000)

    def peak_for(rows: int) -> int:
        job = services.import_create(dataset=dataset, upload=io.BytesIO(csv_bytes(rows)), name=f"{rows}.csv")
        claimed = services.import_claim(job.pk)
        tracemalloc.start()
        try:
            done = services.import_run(claimed)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert done.status == ImportStatus.SUCCEEDED and done.processed == rows
        return peak

    small, large = peak_for(10_000), peak_for(100_000)
    assert large < small * 1.5, (small, large)


def test_a_requeued_job_is_claimed_again_and_finishes_after_its_committed_rows(dataset, monkeypatch):
    monkeypatch.setattr(imports, "BATCH", 100)
    job = services.import_create(dataset=dataset, upload=io.BytesIO(csv_bytes(250)), name="i.csv")
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.FAILED, processed=100, total=250)
    assert services.import_claim(job.pk) is None  # a failed job is nobody's to take

    requeued = services.import_requeue(job=job)
    assert requeued.status == ImportStatus.QUEUED
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.QUEUED
    done = run(requeued)
    assert (done.status, done.processed, done.created_count) == (ImportStatus.SUCCEEDED, 250, 150)


def test_the_command_resumes_an_import_by_its_id(dataset, tmp_path):
    path = tmp_path / "index.csv"
    path.write_bytes(csv_bytes(3))
    job = services.import_create(dataset=dataset, upload=io.BytesIO(csv_bytes(3)), name="i.csv")
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.FAILED, message="the worker died")
    out = StringIO()
    call_command("import_dataset", "d", str(path), "--resume", job.public_id, stdout=out, stderr=StringIO())
    assert f"{job.public_id}: 3 created, 0 updated, 0 rejected." in out.getvalue()
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.SUCCEEDED
    with pytest.raises(CommandError, match="No import imp_nope"):
        call_command("import_dataset", "d", str(path), "--resume", "imp_nope")


def test_resuming_leaves_a_job_alone_while_its_worker_is_alive(dataset, tmp_path):
    path = tmp_path / "index.csv"
    path.write_bytes(csv_bytes(3))
    job = services.import_create(dataset=dataset, upload=io.BytesIO(csv_bytes(3)), name="i.csv")
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, heartbeat_at=timezone.now())
    with pytest.raises(CommandError, match=f"{job.public_id} is being processed by a worker already"):
        call_command("import_dataset", "d", str(path), "--resume", job.public_id, stderr=StringIO())
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.RUNNING

    # once its worker has stopped beating, the job is taken over and finishes
    stale = timezone.now() - services.STALE_AFTER - timedelta(seconds=1)
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=stale)
    out = StringIO()
    call_command("import_dataset", "d", str(path), "--resume", job.public_id, stdout=out, stderr=StringIO())
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.SUCCEEDED
