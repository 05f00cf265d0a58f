"""core.chunks: a chunk's checks (the same for artists' uploads and partners' file filings) and
its write at an offset."""

from __future__ import annotations

from core.chunks import ChunkProblem, chunk_place_problem, chunk_size_problem, chunk_write_at


def test_it_refuses_an_empty_chunk_or_one_over_the_limit():
    assert chunk_size_problem(length=0, limit=10) == ChunkProblem("empty_chunk", 400)
    assert chunk_size_problem(length=11, limit=10) == ChunkProblem("chunk_too_large", 413, limit=10)
    assert chunk_size_problem(length=10, limit=10) is None


def test_it_refuses_a_chunk_that_does_not_go_on_where_the_file_stopped():
    problem = chunk_place_problem(offset=0, length=4, received=8, size=100)
    assert problem == ChunkProblem("offset_mismatch", 409, offset=0, received=8)


def test_it_refuses_a_chunk_past_the_size_announced():
    problem = chunk_place_problem(offset=8, length=4, received=8, size=10)
    assert problem == ChunkProblem("past_size", 400, end=12, size=10)
    assert chunk_place_problem(offset=8, length=2, received=8, size=10) is None


def test_it_writes_at_the_offset_and_drops_what_lay_past_it(tmp_path):
    path = tmp_path / "part" / "file.bin"
    chunk_write_at(path, 0, b"abcdef")
    chunk_write_at(path, 2, b"XY")  # a write past 4 that failed before its offset was saved
    assert path.read_bytes() == b"abXY"
