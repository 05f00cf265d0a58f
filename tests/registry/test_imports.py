"""registry.imports: telling formats apart, reading CSV, NDJSON and Parquet row by row with line
numbers, counting rows for progress, and writing a batch (COPY on PostgreSQL, bulk_create elsewhere)."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from registry import imports
from registry.models import DatasetItem, url_key


def parquet_bytes(columns: dict[str, list]) -> bytes:
    out = io.BytesIO()
    pq.write_table(pa.table(columns), out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "head", "fmt"),
    [
        ("x.bin", b"PAR1....", "parquet"),
        ("index.PARQUET", b"", "parquet"),
        ("index.jsonl", b"", "ndjson"),
        ("upload", b'  {"external_id": 1}', "ndjson"),
        ("index.csv", b"", "csv"),
        ("upload", b"external_id,url\n1,https://i.example/", "csv"),
    ],
)
def test_the_format_is_told_by_magic_bytes_name_or_first_line(name, head, fmt):
    assert imports.detect_format(name, head) == fmt


def test_a_file_of_no_known_format_is_refused():
    with pytest.raises(imports.ImportFileError, match="not CSV"):
        imports.detect_format("notes.txt", b"just words\n")


def test_csv_rows_carry_their_line_numbers_and_only_known_columns():
    data = b"\xef\xbb\xbfURL, External_ID ,extra\nhttps://i.example/1,1,x\n\nhttps://i.example/2,2\n"
    assert list(imports.read_csv(io.BytesIO(data))) == [
        (2, {"external_id": "1", "url": "https://i.example/1"}, None),
        (4, None, "has 2 fields, the header has 3"),
    ]


def test_csv_needs_a_header_naming_external_id_and_url():
    with pytest.raises(imports.ImportFileError, match="empty"):
        list(imports.read_csv(io.BytesIO(b"")))
    with pytest.raises(imports.ImportFileError, match="must name external_id and url"):
        list(imports.read_csv(io.BytesIO(b"id,link\n")))


def test_ndjson_reports_bad_lines_and_skips_blank_ones():
    data = b'{"external_id": "a", "url": "u"}\n\n{broken\n[1]\n' + b"[" * 100_000 + b"\n"
    rows = list(imports.read_ndjson(io.BytesIO(data)))
    assert rows[0] == (1, {"external_id": "a", "url": "u"}, None)
    assert [(line, row) for line, row, _ in rows[1:]] == [(3, None), (4, None), (5, None)]
    assert rows[1][2].startswith("is not valid JSON")
    assert rows[2][2] == "is not a JSON object"
    assert rows[3][2] == "is not valid JSON (it nests too deep)"


def test_parquet_rows_are_numbered_and_external_ids_become_text():
    data = parquet_bytes({"external_id": [7, None], "url": ["https://i.example/7", "https://i.example/n"]})
    assert list(imports.read_parquet(io.BytesIO(data))) == [
        (1, {"external_id": "7", "url": "https://i.example/7"}, None),
        (2, {"external_id": None, "url": "https://i.example/n"}, None),
    ]


def test_parquet_needs_both_columns_and_a_readable_file():
    with pytest.raises(imports.ImportFileError, match="columns external_id and url"):
        list(imports.read_parquet(io.BytesIO(parquet_bytes({"url": ["https://i.example/"]}))))
    with pytest.raises(imports.ImportFileError, match="cannot be read"):
        list(imports.read_parquet(io.BytesIO(b"PAR1garbage")))


def test_rows_are_counted_for_progress_without_the_csv_header():
    assert imports.count_rows(io.BytesIO(b"external_id,url\n1,a\n2,b\n"), "csv") == 2
    assert imports.count_rows(io.BytesIO(b"external_id,url\n1,a\n2,b"), "csv") == 2  # no final newline
    assert imports.count_rows(io.BytesIO(b""), "csv") == 0
    assert imports.count_rows(io.BytesIO(b"{}\n{}\n{}"), "ndjson") == 3
    data = parquet_bytes({"external_id": ["a", "b", "c"], "url": ["u", "v", "w"]})
    assert imports.count_rows(io.BytesIO(data), "parquet") == 3
    assert imports.count_rows(io.BytesIO(b"PAR1garbage"), "parquet") is None


def _rows(*pairs: tuple[str, str]) -> list[dict]:
    return [
        {"external_id": e, "url": u, "phash": None, "dhash": None, "pdq": None, "pdq_quality": None}
        for e, u in pairs
    ]


@pytest.mark.parametrize("writer", [imports.write_batch, imports._write_portable])
def test_a_batch_upserts_by_external_id_and_the_last_repeat_wins(dataset, writer):
    first = writer(dataset.pk, _rows(("a", "https://i.example/a"), ("b", "https://i.example/b")))
    assert (first.created, first.updated) == (2, 0)
    second = writer(
        dataset.pk,
        _rows(("b", "https://i.example/b1"), ("c", "https://i.example/c"), ("b", "https://i.example/b2")),
    )
    assert (second.created, second.updated) == (1, 1)
    items = {i.external_id: i for i in DatasetItem.objects.filter(dataset=dataset)}
    assert sorted(items) == ["a", "b", "c"]
    assert items["b"].url == "https://i.example/b2" and items["b"].url_key == url_key("https://i.example/b2")
