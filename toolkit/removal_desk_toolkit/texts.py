"""String columns read straight from Arrow's buffers: their bytes, 64-bit hashes of byte ranges,
and a set of strings that a column is looked up in without turning its values into Python strings.

The hash of a string is a polynomial over its bytes read eight at a time (little-endian words
w0, w1, ..., the last one zero-padded): sum of wk * M^k, plus the length times L, modulo 2^64.
It is a filter, never a verdict: every hit is confirmed by comparing the strings themselves.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_M = 0x9E3779B97F4A7C15  # odd, so invertible modulo 2^64
_L = 0xC2B2AE3D27D4EB4F  # mixes in the length ("a" and "a\0" differ)
_MASK = 2**64 - 1
_DENSE_WORDS = 8  # the first 64 bytes of every string are hashed word by word for all rows at once

# Masks keeping the first k bytes (0-8) of a little-endian 64-bit word.
KEEP_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)


class _Powers:
    """M^k modulo 2^64, grown on demand and shared by every batch of a process."""

    def __init__(self) -> None:
        self.up = np.ones(1, dtype=np.uint64)

    def get(self, n: int) -> np.ndarray:
        if len(self.up) < n:
            up = np.full(max(n, 2 * len(self.up)), _M, dtype=np.uint64)
            up[0] = 1
            self.up = np.cumprod(up, dtype=np.uint64)
        return self.up


_powers = _Powers()


def text_hash(value: str | bytes) -> int:
    """The 64-bit hash of one string, equal to what the vectorised paths compute."""
    data = value.encode("utf-8") if isinstance(value, str) else value
    h, m = 0, 1
    for k in range(0, len(data), 8):
        h = (h + int.from_bytes(data[k : k + 8], "little") * m) & _MASK
        m = (m * _M) & _MASK
    return (h + len(data) * _L) & _MASK


def one_array(array: Any) -> Any:
    """A column as one Arrow array: a chunked column of one chunk without copying it."""
    if isinstance(array, pa.ChunkedArray):
        return array.chunk(0) if array.num_chunks == 1 else array.combine_chunks()
    return array


def string_array(column: Any) -> Any:
    """A column as one Arrow string or large_string array (dictionaries decoded, others cast)."""
    array = one_array(column)
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = array.cast(pa.large_string())
    return array


def text_buffers(column: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bytes, start, end) of every value of a string column (nulls: start == end), no copies."""
    array = string_array(column)
    offsets_type = np.int32 if pa.types.is_string(array.type) else np.int64
    _, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(
        offsets_buffer,
        dtype=offsets_type,
        count=len(array) + 1,
        offset=array.offset * offsets_type().itemsize,
    )
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.empty(0, np.uint8)
    starts = offsets[:-1].astype(np.int64)
    ends = offsets[1:].astype(np.int64)
    if array.null_count:
        valid = np.asarray(array.is_valid())
        ends = np.where(valid, ends, starts)
    return data, starts, ends


def padded(data: np.ndarray, extra: int) -> np.ndarray:
    """A copy of `data` with `extra` zero bytes after it, so that reads past a value's end stay
    inside the array."""
    out = np.zeros(len(data) + extra, dtype=np.uint8)
    out[: len(data)] = data
    return out


def words_of(data: np.ndarray) -> np.ndarray:
    """Every unaligned little-endian 64-bit word of an array padded by at least 8 bytes (one
    starting at each byte), as a view."""
    return np.ndarray(shape=(len(data) - 7,), dtype="<u8", buffer=data, strides=(1,))


def hash_ranges(words: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """text_hash of the bytes [start, end) of each range of `words` (its data padded by 72 bytes
    or more). The first 64 bytes word by word over every row (no per-word index arrays), the
    rest of the few longer ranges in one reduction."""
    lengths = ends - starts
    out = lengths.astype(np.uint64) * np.uint64(_L)
    if not len(starts):
        return out
    longest = int(lengths.max())
    up = _powers.get((longest + 7) // 8 + 1)
    with np.errstate(over="ignore"):
        for k in range(min(_DENSE_WORDS, (longest + 7) // 8)):
            left = np.clip(lengths - 8 * k, 0, 8)
            out += (words[starts + 8 * k] & KEEP_BYTES[left]) * up[k]
        long_rows = np.flatnonzero(lengths > 8 * _DENSE_WORDS)
        if len(long_rows):
            tail_starts = starts[long_rows] + 8 * _DENSE_WORDS
            tail_lengths = lengths[long_rows] - 8 * _DENSE_WORDS
            steps = (tail_lengths + 7) >> 3
            first = np.cumsum(steps) - steps
            k = np.arange(int(first[-1] + steps[-1]), dtype=np.int64) - np.repeat(first, steps)
            left = np.clip(np.repeat(tail_lengths, steps) - 8 * k, 0, 8)
            parts = (words[np.repeat(tail_starts, steps) + 8 * k] & KEEP_BYTES[left]) * up[k + _DENSE_WORDS]
            out[long_rows] += np.add.reduceat(parts, first)
    return out


def column_hashes(column: Any, *, slice_rows: int = 65_536) -> np.ndarray:
    """text_hash of every value of a string column (nulls hash as ""), a slice of rows at a time
    (each slice's bytes copied with the padding the word reads need, never the whole column's)."""
    data, starts, ends = text_buffers(column)
    out = np.empty(len(starts), dtype=np.uint64)
    for lo in range(0, len(starts), slice_rows):
        s, e = starts[lo : lo + slice_rows], ends[lo : lo + slice_rows]
        first, last = int(s[0]), int(e.max())
        words = words_of(padded(data[first:last], 8 * _DENSE_WORDS + 8))
        out[lo : lo + len(s)] = hash_ranges(words, s - first, e - first)
    return out


class TextSet:
    """Strings and what each names (the first of equal strings names it), looked up by hash.

    The hashes are sorted and bucketed by their top bits (about one string a bucket), so a look-up
    is two reads and a comparison, with no sorting of the queries. A hit is confirmed against the
    string itself, in Arrow: a collision costs a comparison, never a wrong answer."""

    def __init__(self, texts: list[str], names: list[Any]) -> None:
        hashes = column_hashes(pa.array(texts, type=pa.large_string()))
        order = np.argsort(hashes, kind="stable")
        self.hashes = hashes[order]
        self.texts = pa.array([texts[i] for i in order], type=pa.large_string())
        self.names = [names[i] for i in order]
        self.bits = max(1, int(np.ceil(np.log2(max(len(texts), 2)))))
        self._shift = np.uint64(64 - self.bits)
        self._bucket_starts = np.searchsorted(
            self.hashes >> self._shift, np.arange((1 << self.bits) + 1, dtype=np.uint64)
        ).astype(np.int64)

    def __len__(self) -> int:
        return len(self.hashes)

    def find(self, hashes: np.ndarray) -> np.ndarray:
        """Position in this set of the first string with each hash, or -1."""
        found = np.full(len(hashes), -1, dtype=np.int64)
        if not len(self.hashes):
            return found
        bucket = (hashes >> self._shift).astype(np.int64)
        lo, hi = self._bucket_starts[bucket], self._bucket_starts[bucket + 1]
        rows = np.flatnonzero(lo < hi)
        at = lo[rows]
        while len(rows):
            equal = self.hashes[at] == hashes[rows]
            found[rows[equal]] = at[equal]
            more = ~equal & (at + 1 < hi[rows])
            rows, at = rows[more], at[more] + 1
        return found

    def lookup(self, column: Any, hashes: np.ndarray) -> tuple[np.ndarray, list[Any]]:
        """The rows of a string column (whose hashes these are) whose string is in this set, and
        what each names."""
        positions = self.find(hashes)
        rows = np.flatnonzero(positions >= 0)
        positions = positions[rows]
        if not len(rows):
            return rows, []
        values = string_array(column).take(pa.array(rows))
        same = np.array(pc.equal(values, self.texts.take(pa.array(positions))).fill_null(False))
        names = [self.names[p] for p in positions]
        for i in np.flatnonzero(~same):  # equal hashes, other strings: a later equal hash may match
            p = self.confirm(int(positions[i]), values[int(i)].as_py())
            same[i] = p >= 0
            names[i] = self.names[p] if p >= 0 else None
        return rows[same], [name for name, ok in zip(names, same, strict=True) if ok]

    def confirm(self, position: int, text: str | None) -> int:
        """The position of `text` itself among the entries sharing the hash at `position`, or -1."""
        h = self.hashes[position]
        while position < len(self.hashes) and self.hashes[position] == h:
            if self.texts[position].as_py() == text:
                return position
            position += 1
        return -1
