"""Which rows of a data set are removed, a batch at a time: the function Dask, Spark or Ray run.

    removed = Removed.from_store("removals.sqlite3", domains=["*.artist.example"])
    kept, report = removed.filter_table(batch)          # a pyarrow Table (or RecordBatch)
    kept_frame = removed.filter_frame(frame)            # a pandas DataFrame (map_partitions)

A row is dropped when, in this order of reasons:

- `url`: its URL is the URL of a removal in force (exactly, as the registry compares them);
- `domain`: its host is under a domain opt-out (`example.com`: that host; `*.example.com`: it
  and its subdomains; `example.com/art/`: under that path), hosts compared lower-case, IDNA,
  without port or user info, as the registry does;
- `phash`: its pHash is within `radius` bits of a removal's (default 6, the registry's own rule
  for recording a new copy of a removed work with no person confirming,
  REMATCH_PHASH_MAX_DISTANCE) and, where both sides have PDQ, their PDQ within `pdq_radius`
  (31, MATCH_PDQ_MAX_DISTANCE). A pHash with fewer than 8 ones or zeros (a flat image) says
  nothing and is not compared, as on the server.

Speed: the URLs and hosts are never turned into Python strings. A URL is hashed to 64 bits in
numpy straight from Arrow's buffers (removal_desk_toolkit.texts), looked up in the removals'
hashes and confirmed by comparing the strings in Arrow: a hash collision costs a comparison,
never a wrong drop. Domain scopes go through removal_desk_toolkit.domains, which reads plain
hosts in numpy and compares them in Arrow, and takes every other URL through the rule itself,
in Python. pHashes go through removal_desk_toolkit.hamming's exact multi-index over the
removals.

Needs pyarrow (`pip install removal-desk-toolkit[filter]`); pandas only for filter_frame.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .hamming import MultiIndex, layout

try:
    import pyarrow as pa
    import pyarrow.compute as pc
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(
        "filtering needs pyarrow: pip install 'removal-desk-toolkit[filter]' (or [dask])"
    ) from exc

from .domains import DomainScopes, Scope, normalise_host, url_host
from .texts import TextSet, column_hashes, one_array, string_array, text_buffers, text_hash

DEFAULT_RADIUS = 6
DEFAULT_PDQ_RADIUS = 31
MIN_MINORITY_BITS = 8
REASONS = ("", "url", "domain", "phash")  # index = the reason code; 0 keeps the row
KEEP, URL, DOMAIN, PHASH = range(4)


@dataclass
class Verdict:
    """Per row of a batch: why it is dropped (0 keeps it), by which removal or scope, how far."""

    reason: np.ndarray  # uint8 codes into REASONS
    removal: np.ndarray  # object: the removal's id, or the domain scope; None when kept
    distance: np.ndarray  # int16: the pHash distance for "phash", else -1

    @property
    def keep(self) -> np.ndarray:
        return self.reason == KEEP


class Removed:
    """The removals in force, indexed for filtering batches of a data set.

    Picklable (Dask ships it to its workers): the indexes are rebuilt in each process on first
    use, from the removals' own columns."""

    def __init__(
        self,
        removals: Iterable[Mapping[str, Any]],
        *,
        domains: Iterable[str | Scope] = (),
        radius: int = DEFAULT_RADIUS,
        pdq_radius: int = DEFAULT_PDQ_RADIUS,
    ) -> None:
        if not 0 <= radius <= 64:
            raise ValueError("radius must be from 0 to 64 bits")
        self.radius, self.pdq_radius = radius, pdq_radius
        ids: list[str] = []
        url_list: list[str | None] = []
        phashes: list[Any] = []
        pdqs: list[Any] = []
        for removal in removals:
            ids.append(removal["id"])
            url_list.append(removal.get("url") or None)
            phashes.append(removal.get("phash"))
            pdqs.append(removal.get("pdq"))
        # The first removal of a URL names it (the store reads them in id order).
        self.urls: dict[str, str] = {}
        for removal_id, url in zip(ids, url_list, strict=True):
            if url is not None and url not in self.urls:
                self.urls[url] = removal_id
        codes, known = column_codes(pa.array(phashes, type=pa.string()))
        ones = np.bitwise_count(codes)
        known &= (ones >= MIN_MINORITY_BITS) & (ones <= 64 - MIN_MINORITY_BITS)
        keep = np.flatnonzero(known)
        self.code_ids = [ids[i] for i in keep]
        self.codes = codes[keep].copy()
        pdq_words, has_pdq = column_pdqs(pa.array(pdqs, type=pa.string()))
        self.pdq_words, self.has_pdq = pdq_words[keep].copy(), has_pdq[keep].copy()
        self.scopes = [s if isinstance(s, Scope) else Scope.parse(s) for s in domains]
        self._built = False

    def with_options(self, *, domains: Iterable[str | Scope] = (), radius: int | None = None) -> Removed:
        """The same removals with other domain scopes or radius, without reading them again."""
        other = copy.copy(self.__getstate__())
        clone = Removed.__new__(Removed)
        clone.__dict__.update(other)
        clone.scopes = [s if isinstance(s, Scope) else Scope.parse(s) for s in domains]
        if radius is not None:
            if not 0 <= radius <= 64:
                raise ValueError("radius must be from 0 to 64 bits")
            clone.radius = radius
        return clone

    @classmethod
    def from_store(cls, path: str, *, datasets: Iterable[str] | None = None, **options: Any) -> Removed:
        from .store import Store

        with Store(path) as store:
            return cls(store.live(datasets), **options)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for name in ("_url_set", "_domains", "_index"):
            state.pop(name, None)
        state["_built"] = False
        return state

    def __len__(self) -> int:
        return len(set(self.urls.values()) | set(self.code_ids))

    def _build(self) -> None:
        if self._built:
            return
        self._url_set = TextSet(list(self.urls), list(self.urls.values()))
        self._domains = DomainScopes(self.scopes)
        self._index = MultiIndex(self.codes, layout(self.radius, len(self.codes)))
        self._built = True

    # --- the batch function ---------------------------------------------------------------

    def check(
        self,
        table: Any,
        *,
        url_column: str | None = "url",
        phash_column: str | None = "phash",
        pdq_column: str | None = "pdq",
    ) -> Verdict:
        """Why each row of `table` (pyarrow Table or RecordBatch) is dropped, if it is."""
        self._build()
        n = table.num_rows
        reason = np.zeros(n, dtype=np.uint8)
        removal = np.full(n, None, dtype=object)
        distance = np.full(n, -1, dtype=np.int16)
        names = table.schema.names
        if url_column is not None and url_column in names:
            self._check_urls(table.column(url_column), reason, removal)
        if phash_column is not None and phash_column in names:
            pdq = table.column(pdq_column) if pdq_column is not None and pdq_column in names else None
            self._check_hashes(table.column(phash_column), pdq, reason, removal, distance)
        return Verdict(reason, removal, distance)

    def filter_table(self, table: Any, **columns: Any) -> tuple[Any, Any]:
        """(the kept rows, the report of the dropped ones: row, reason, removal, distance)."""
        verdict = self.check(table, **columns)
        dropped = np.flatnonzero(~verdict.keep)
        report = pa.table(
            {
                "row": pa.array(dropped, type=pa.int64()),
                "reason": pa.array([REASONS[r] for r in verdict.reason[dropped]], type=pa.string()),
                "removal": pa.array(list(verdict.removal[dropped]), type=pa.string()),
                "distance": pa.array(verdict.distance[dropped].astype(np.int64), type=pa.int64()),
            }
        )
        return table.filter(pa.array(verdict.keep)), report

    def filter_frame(self, frame: Any, **columns: Any) -> Any:
        """The kept rows of a pandas DataFrame: the function for Dask's map_partitions (and, on
        each batch, Spark's mapInPandas and Ray Data's map_batches)."""
        if not len(frame):
            return frame
        # Only the checked columns go to Arrow: captions and the like would be converted for nothing.
        wanted = {"url_column": "url", "phash_column": "phash", "pdq_column": "pdq"} | columns
        checked = [
            name for name in dict.fromkeys(wanted.values()) if name is not None and name in frame.columns
        ]
        verdict = self.check(pa.Table.from_pandas(frame[checked], preserve_index=False), **columns)
        return frame[verdict.keep]

    # --- URLs and domains ------------------------------------------------------------------

    def _check_urls(self, column: Any, reason: np.ndarray, removal: np.ndarray) -> None:
        array = string_array(column)
        if len(self._url_set):
            rows, names = self._url_set.lookup(array, column_hashes(array))
            reason[rows] = URL
            removal[rows] = names
        if self._domains:
            rows, scopes = self._domains.match(array)
            keep = reason[rows] == KEEP  # a row removed by its URL says so
            reason[rows[keep]] = DOMAIN
            removal[rows[keep]] = np.array(self._domains.names, dtype=object)[scopes[keep]]

    # --- perceptual hashes -----------------------------------------------------------------

    def _check_hashes(
        self, column: Any, pdq_column: Any, reason: np.ndarray, removal: np.ndarray, distance: np.ndarray
    ) -> None:
        if not len(self.codes):
            return
        codes, known = column_codes(column)
        ones = np.bitwise_count(codes)
        known &= (ones >= MIN_MINORITY_BITS) & (ones <= 64 - MIN_MINORITY_BITS)
        known &= reason == KEEP
        rows = np.flatnonzero(known)
        if not len(rows):
            return
        q, c, d = self._index.search(codes[rows], self.radius)
        if not len(q):
            return
        if pdq_column is not None and self.has_pdq.any():
            row_pdq, row_has = column_pdqs(pdq_column)
            both = row_has[rows[q]] & self.has_pdq[c]
            if both.any():
                far = np.zeros(len(q), dtype=bool)
                diff = row_pdq[rows[q[both]]] ^ self.pdq_words[c[both]]
                far[both] = np.bitwise_count(diff).sum(axis=1) > self.pdq_radius
                q, c, d = q[~far], c[~far], d[~far]
        # Sorted by query then distance: the first hit of each query is its nearest removal.
        first = np.flatnonzero(np.r_[True, q[1:] != q[:-1]]) if len(q) else np.empty(0, np.int64)
        target = rows[q[first]]
        reason[target] = PHASH
        distance[target] = d[first]
        ids = self.code_ids
        for t, position in zip(target, c[first], strict=True):
            removal[t] = ids[position]


_HEX = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _HEX[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    _HEX[_c] = 10 + _i


def _hex_words(column: Any, words: int) -> tuple[np.ndarray, np.ndarray]:
    """A column of hex strings of 16 x `words` digits -> (uint64 words (rows, words), readable)."""
    width = 16 * words
    data, starts, ends = text_buffers(column)
    ok = (ends - starts) == width
    padded = np.concatenate([data, np.zeros(width, dtype=np.uint8)])
    digits = _HEX[np.lib.stride_tricks.sliding_window_view(padded, width)[np.where(ok, starts, 0)]]
    ok &= (digits != 255).all(axis=1)
    nibbles = digits.astype(np.uint64).reshape(len(starts), words, 16)
    shifts = (np.uint64(4) * np.arange(15, -1, -1, dtype=np.uint64))[None, None, :]
    values = np.bitwise_or.reduce(nibbles << shifts, axis=2)
    return values, ok


def column_codes(column: Any) -> tuple[np.ndarray, np.ndarray]:
    """A pHash column (16 hex digits, or the registry's signed int64) -> (uint64 codes, readable)."""
    array = one_array(column)
    if pa.types.is_integer(array.type):
        known = np.asarray(array.is_valid())
        values = np.asarray(array.fill_null(0).cast(pa.int64())).view(np.uint64)
        return values, known
    values, ok = _hex_words(array, 1)
    return values[:, 0], ok


def column_pdqs(column: Any) -> tuple[np.ndarray, np.ndarray]:
    """A PDQ column (64 hex digits) -> (uint64 words (rows, 4), readable)."""
    return _hex_words(column, 4)


__all__ = [
    "REASONS",
    "Removed",
    "Scope",
    "Verdict",
    "column_codes",
    "normalise_host",
    "pc",
    "text_hash",
    "url_host",
]
