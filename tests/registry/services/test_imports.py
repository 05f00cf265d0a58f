"""Import jobs (services.import_create, import_claim, import_run): CSV, NDJSON and Parquet; bad rows
with line numbers; an interrupted job resumes without duplicates; memory stays flat."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from registry import imports, services
from registry.hashing import code_to_hex
from registry.models import DatasetItem, ImportJob, ImportStatus
from tests.helpers import import_run_now, index_csv

PHASH = "b15fe6465121175e"


def test_it_imports_csv_and_reports_bad_rows_with_line_numbers(dataset):
    data = (
        b"external_id,url,phash,dhash\n1,https://i.example/1.jpg,%s,\n2,notaurl,,\n3,https://i.example/3.jpg\n4,https://i.example/4.jpg,,\n"
        % PHASH.encode()
    )
    job = import_run_now(services.import_create(dataset=dataset, upload=io.BytesIO(data), name="index.csv"))
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
    job = import_run_now(
        services.import_create(dataset=dataset, upload=io.BytesIO(ndjson), name="index.ndjson")
    )
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
    job = import_run_now(services.import_create(dataset=dataset, upload=out, name="index.parquet"))
    assert (job.status, job.total, job.created_count, job.updated_count) == ("succeeded", 2, 1, 1)
    assert DatasetItem.objects.get(external_id="a").url == "https://i.example/a2"


def test_a_repeated_external_id_in_one_file_keeps_the_last_row(dataset):
    data = b"external_id,url\nx,https://i.example/1\nx,https://i.example/2\n"
    job = import_run_now(services.import_create(dataset=dataset, upload=io.BytesIO(data), name="i.csv"))
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
        job = import_run_now(job)
        assert job.status == ImportStatus.FAILED and words in job.message
    assert DatasetItem.objects.count() == 0


def test_an_interrupted_import_resumes_without_duplicates(dataset, monkeypatch):
    monkeypatch.setattr(imports, "BATCH", 100)
    job = services.import_create(dataset=dataset, upload=io.BytesIO(index_csv(450)), name="i.csv")
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


def test_memory_stays_flat_as_the_file_grows(dataset, monkeypatch):
    """Peak Python memory of an import does not grow with the number of rows (streamed, batched).

    What an import holds at its peak is its read-ahead window: the batch being written, the one
    being read and the READ_AHEAD batches queued between them. Whether the window fills depends
    on which of the reader and the writer is faster in that run (the machine's load decides), so
    two runs of a flat import may differ by up to that window, never by more: a cost per row of
    the file would add 100,000 rows' worth to the larger run. The first, untraced import pays the
    process's one-time costs (imports of modules, caches) that earlier tests may or may not have.
    """
    import tracemalloc

    batch = 1000
    monkeypatch.setattr(imports, "BATCH", batch)

    def peak_for(rows: int) -> int:
        job = services.import_create(dataset=dataset, upload=io.BytesIO(index_csv(rows)), name=f"{rows}.csv")
        claimed = services.import_claim(job.pk)
        tracemalloc.start()
        try:
            done = services.import_run(claimed)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert done.status == ImportStatus.SUCCEEDED and done.processed == rows
        return peak

    # One batch as the reader holds it (read, validated and keyed), measured the same way.
    rows = list(imports.READERS["csv"](io.BytesIO(index_csv(batch))))
    tracemalloc.start()
    keyed = imports.key_rows([services.clean_item_row(raw) for _, raw, _ in rows])
    one_batch, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(keyed) == batch and one_batch > 0
    window = (services.imports.READ_AHEAD + 2) * one_batch

    peak_for(2_000)
    small, large = peak_for(10_000), peak_for(100_000)
    # 100,000 rows are 100 batches: a per-row cost shows far above either bound.
    assert large < small + window, (small, large, one_batch)
    assert large < 2 * window + one_batch, (large, one_batch)  # the window and the process's own


def test_a_requeued_job_is_claimed_again_and_finishes_after_its_committed_rows(dataset, monkeypatch):
    monkeypatch.setattr(imports, "BATCH", 100)
    job = services.import_create(dataset=dataset, upload=io.BytesIO(index_csv(250)), name="i.csv")
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.FAILED, processed=100, total=250)
    assert services.import_claim(job.pk) is None  # a failed job is nobody's to take

    requeued = services.import_requeue(job=job)
    assert requeued.status == ImportStatus.QUEUED
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.QUEUED
    done = import_run_now(requeued)
    assert (done.status, done.processed, done.created_count) == (ImportStatus.SUCCEEDED, 250, 150)


def test_pdq_quality_arrives_through_every_import_format(dataset):
    pdq = "0f" * 32
    csv = f"external_id,url,pdq,pdq_quality\nc,https://i.example/c,{pdq},91\nbad,https://i.example/x,{pdq},200\n"
    upload = io.BytesIO(csv.encode())
    job = import_run_now(services.import_create(dataset=dataset, upload=upload, name="i.csv"))
    assert job.errors == [{"line": 3, "error": "pdq_quality must be a whole number from 0 to 100, not '200'"}]
    out = io.BytesIO()
    table = {"external_id": ["p"], "url": ["https://i.example/p"], "pdq": [pdq], "pdq_quality": [33]}
    pq.write_table(pa.table(table), out)
    out.seek(0)
    import_run_now(services.import_create(dataset=dataset, upload=out, name="i.parquet"))
    line = b'{"external_id": "n", "url": "https://i.example/n", "pdq": "%s", "pdq_quality": 7}' % pdq.encode()
    import_run_now(services.import_create(dataset=dataset, upload=io.BytesIO(line), name="i.ndjson"))
    stored = dict(DatasetItem.objects.filter(dataset=dataset).values_list("external_id", "pdq_quality"))
    assert stored == {"c": 91, "p": 33, "n": 7}


def test_the_read_ahead_keeps_order_keys_rows_and_raises_the_readers_error_after_its_batches():
    import threading

    from registry.hosts import url_host_path
    from registry.models import url_key
    from registry.services.imports import _read_ahead

    def batches():
        for b in range(5):
            yield [{"external_id": str(b), "url": f"https://i.example/{b}.jpg"}], []
        raise imports.ImportFileError("The Parquet file cannot be read after row 5: damaged")

    seen = []
    with pytest.raises(imports.ImportFileError, match="after row 5"):
        for rows, errors in _read_ahead(batches()):
            seen.append(rows[0]["external_id"])
            row, url = rows[0], rows[0]["url"]
            assert (row["url_key"], row["host"], row["path"]) == (url_key(url), *url_host_path(url))
            assert errors == []
    assert seen == ["0", "1", "2", "3", "4"]
    assert not [t for t in threading.enumerate() if t.name == "import-reader"]


def test_the_read_ahead_stops_its_reader_when_the_writer_fails():
    import threading

    from registry.services.imports import _read_ahead

    read = []

    def endless():
        n = 0
        while True:
            read.append(n)
            yield [{"external_id": str(n), "url": f"https://i.example/{n}.jpg"}], []
            n += 1

    ahead = _read_ahead(endless())
    with pytest.raises(RuntimeError):
        for rows, _ in ahead:
            if rows[0]["external_id"] == "3":
                raise RuntimeError("the batch's transaction failed")
    ahead.close()
    assert not [t for t in threading.enumerate() if t.name == "import-reader"]
    assert len(read) <= 3 + 1 + imports_read_ahead_depth()  # read at most a few batches ahead, then stopped


def imports_read_ahead_depth() -> int:
    from registry.services.imports import READ_AHEAD

    return READ_AHEAD + 1  # the queue, plus the one the reader holds while waiting for room
