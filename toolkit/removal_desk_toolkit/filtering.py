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

Speed: the URLs and hosts are never turned into Python strings. Each is hashed to 64 bits in
numpy straight from Arrow's buffers (a polynomial hash by prefix sums, so a URL's host and its
parent domains are hashed from the same pass), looked up in the removals' sorted hashes, and
every hit is confirmed by comparing the strings themselves: a hash collision costs a
comparison, never a wrong drop. Hosts that are not plain ASCII (IDNA, user info, escapes, IP
literals) take the general path, in Python. pHashes go through removal_desk_toolkit.hamming's
exact multi-index over the removals.

Needs pyarrow (`pip install removal-desk-toolkit[filter]`); pandas only for filter_frame.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import numpy as np

from .hamming import MultiIndex

try:
    import pyarrow as pa
    import pyarrow.compute as pc
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(
        "filtering needs pyarrow: pip install 'removal-desk-toolkit[filter]' (or [dask])"
    ) from exc

DEFAULT_RADIUS = 6
DEFAULT_PDQ_RADIUS = 31
MIN_MINORITY_BITS = 8
REASONS = ("", "url", "domain", "phash")  # index = the reason code; 0 keeps the row
KEEP, URL, DOMAIN, PHASH = range(4)

_SCOPE_HOST = re.compile(r"^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$")
_M = 0x9E3779B97F4A7C15  # odd, so invertible modulo 2^64
_L = 0xC2B2AE3D27D4EB4F  # mixes in the length ("a" and "a\0" differ)
_MASK = 2**64 - 1
_WINDOW = 64  # bytes of a URL read for its scheme and host: longer hosts take the general path
_SLICE_ROWS = 32_768

# Byte classes for hosts: 1 a plain host character (after lower-casing), 2 where a host ends
# (/ ? # : or past the URL's end), 0 anything else (user info, escapes, IPv6, non-ASCII).
_LOWER = np.arange(256, dtype=np.uint8)
_LOWER[ord("A") : ord("Z") + 1] += 32
_CLASS = np.zeros(256, dtype=np.uint8)
for _c in b"abcdefghijklmnopqrstuvwxyz0123456789_.-":
    _CLASS[_c] = 1
for _c in b"/?#:\x00":
    _CLASS[_c] = 2


class _Powers:
    """M^k and M^-k modulo 2^64, grown on demand and shared by every batch of a process."""

    def __init__(self) -> None:
        self.up = np.ones(1, dtype=np.uint64)
        self.down = np.ones(1, dtype=np.uint64)

    def get(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        if len(self.up) < n:
            size = max(n, 2 * len(self.up))
            up = np.full(size, _M, dtype=np.uint64)
            up[0] = 1
            down = np.full(size, pow(_M, -1, 2**64), dtype=np.uint64)
            down[0] = 1
            self.up, self.down = np.cumprod(up, dtype=np.uint64), np.cumprod(down, dtype=np.uint64)
        return self.up, self.down


_powers = _Powers()


def text_hash(value: str | bytes) -> int:
    """The 64-bit hash of one string, equal to what the vectorised paths compute."""
    data = value.encode("utf-8") if isinstance(value, str) else value
    h, m = 0, 1
    for byte in data:
        h = (h + byte * m) & _MASK
        m = (m * _M) & _MASK
    return (h + len(data) * _L) & _MASK


def _hashes_from_prefix(prefix: np.ndarray, down: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hash of bytes [a, b) from prefix sums of byte * M^position (positions of `prefix`)."""
    with np.errstate(over="ignore"):
        return (prefix[b] - prefix[a]) * down[a] + (b - a).astype(np.uint64) * np.uint64(_L)


def _text_buffers(array: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bytes, start, end) of every value of a string column (nulls: start == end), no copies."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = array.cast(pa.large_string())
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


def normalise_host(raw: str) -> str:
    """The registry's form of a host written in a URL: no user info or port, lower-case, IDNA,
    no closing dot; "" when it is not a host (registry/hosts.py does the same on the server)."""
    host = raw.rsplit("@", 1)[-1]
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1].lower() if end > 0 else ""
    host = unquote(host.split(":", 1)[0]).strip().lower().removesuffix(".")
    if not host or "\x00" in host:
        return ""
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return ""
    return host if len(host) <= 253 else ""


def url_host(url: str) -> str:
    try:
        return normalise_host(urlsplit(url.strip()).netloc)
    except ValueError:  # an unbalanced "[" in the host
        return ""


@dataclass(frozen=True)
class Scope:
    """A domain opt-out: a host, whether its subdomains are covered, and a path prefix."""

    host: str
    subdomains: bool
    path: str  # "" for the whole host, else a prefix ending in "/"

    @classmethod
    def parse(cls, line: str) -> Scope:
        text = line.strip()
        subdomains = text.startswith("*.")
        if subdomains:
            text = text[2:]
        host_part, slash, path = text.partition("/")
        host = normalise_host(host_part) if "://" not in text else ""
        if not host or not _SCOPE_HOST.match(host):
            raise ValueError(
                f"{line.strip()!r} is not a domain scope; "
                "write example.com, *.example.com or example.com/path/"
            )
        prefix = ("/" + path) if slash else ""
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return cls(host, subdomains, "" if prefix == "/" else prefix)

    def __str__(self) -> str:
        return ("*." if self.subdomains else "") + self.host + self.path


class _HashSet:
    """Sorted 64-bit hashes of strings, with the strings to confirm a hit and what each names."""

    def __init__(self, texts: list[str], names: list[Any]) -> None:
        hashes = (
            np.array([text_hash(t) for t in texts], dtype=np.uint64)
            if len(texts) < 1000
            else (_column_hashes(pa.array(texts, type=pa.large_string())))
        )
        order = np.argsort(hashes, kind="stable")
        self.hashes = hashes[order]
        self.texts = [texts[i] for i in order]
        self.names = [names[i] for i in order]

    def __len__(self) -> int:
        return len(self.hashes)

    def find(self, hashes: np.ndarray) -> np.ndarray:
        """Position in this set of each hash (of the first equal one), or -1."""
        if not len(self.hashes):
            return np.full(len(hashes), -1, dtype=np.int64)
        at = np.searchsorted(self.hashes, hashes)
        at[at == len(self.hashes)] = 0
        return np.where(self.hashes[at] == hashes, at, -1)

    def confirm(self, position: int, text: str) -> int:
        """The position of `text` itself among the entries sharing the hash at `position`, or -1."""
        h = self.hashes[position]
        while position < len(self.hashes) and self.hashes[position] == h:
            if self.texts[position] == text:
                return position
            position += 1
        return -1


def _column_hashes(array: Any) -> np.ndarray:
    data, starts, ends = _text_buffers(array)
    out = np.empty(len(starts), dtype=np.uint64)
    for lo in range(0, len(starts), _SLICE_ROWS):
        s, e = starts[lo : lo + _SLICE_ROWS], ends[lo : lo + _SLICE_ROWS]
        out[lo : lo + len(s)] = _slice_hashes(data, s, e)
    return out


def _slice_hashes(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    if not len(starts):
        return np.empty(0, dtype=np.uint64)
    base, top = int(starts.min()), int(ends.max())
    chunk = data[base:top]
    up, down = _powers.get(len(chunk) + 1)
    prefix = np.zeros(len(chunk) + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        np.cumsum(chunk * up[: len(chunk)], out=prefix[1:])
    return _hashes_from_prefix(prefix, down, starts - base, ends - base)


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
        urls: dict[str, str] = {}
        ids: list[str] = []
        codes: list[int] = []
        pdqs: list[bytes | None] = []
        for removal in removals:
            url = removal.get("url")
            if url:
                urls.setdefault(url, removal["id"])
            code = _hex_code(removal.get("phash"))
            if code is not None and _says_something(code):
                ids.append(removal["id"])
                codes.append(code)
                pdqs.append(_hex_pdq(removal.get("pdq")))
        self.urls = urls
        self.code_ids = ids
        self.codes = np.array(codes, dtype=np.uint64)
        self.pdqs = pdqs
        self.scopes = [s if isinstance(s, Scope) else Scope.parse(s) for s in domains]
        self._built = False

    @classmethod
    def from_store(cls, path: str, *, datasets: Iterable[str] | None = None, **options: Any) -> Removed:
        from .store import Store

        with Store(path) as store:
            return cls(store.live(datasets), **options)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for name in (
            "_url_set",
            "_hosts",
            "_wild",
            "_exact",
            "_wild_of",
            "_paths",
            "_path_hosts",
            "_index",
            "_pdq_matrix",
            "_has_pdq",
        ):
            state.pop(name, None)
        state["_built"] = False
        return state

    def __len__(self) -> int:
        return len(set(self.urls.values()) | set(self.code_ids))

    def _build(self) -> None:
        if self._built:
            return
        self._url_set = _HashSet(list(self.urls), list(self.urls.values()))
        exact = [s for s in self.scopes if not s.subdomains and not s.path]
        wild = [s for s in self.scopes if s.subdomains and not s.path]
        self._hosts = _HashSet([s.host for s in exact], [str(s) for s in exact])
        self._wild = _HashSet([s.host for s in wild], [str(s) for s in wild])
        self._exact = {s.host: s for s in exact}
        self._wild_of = {s.host: s for s in wild}
        self._paths: dict[str, list[Scope]] = {}
        for scope in self.scopes:
            if scope.path:
                self._paths.setdefault(scope.host, []).append(scope)
        path_hosts = list(self._paths)
        self._path_hosts = _HashSet(path_hosts, path_hosts)
        self._index = MultiIndex(self.codes)
        self._has_pdq = np.array([p is not None for p in self.pdqs], dtype=bool)
        self._pdq_matrix = np.zeros((len(self.pdqs), 4), dtype=np.uint64)
        for i, p in enumerate(self.pdqs):
            if p is not None:
                self._pdq_matrix[i] = np.frombuffer(p, dtype=">u8")
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
        verdict = self.check(pa.Table.from_pandas(frame, preserve_index=False), **columns)
        return frame[verdict.keep]

    # --- URLs and domains ------------------------------------------------------------------

    def _check_urls(self, column: Any, reason: np.ndarray, removal: np.ndarray) -> None:
        check_domains = bool(self.scopes)
        if not len(self._url_set) and not check_domains:
            return
        data, starts, ends = _text_buffers(column)
        padded = np.concatenate([data, np.zeros(_WINDOW, dtype=np.uint8)])
        windows = np.lib.stride_tricks.sliding_window_view(padded, _WINDOW)
        texts: Any = None  # the column's Python strings, fetched only for rows that need them
        for lo in range(0, len(starts), _SLICE_ROWS):
            s, e = starts[lo : lo + _SLICE_ROWS], ends[lo : lo + _SLICE_ROWS]
            if len(self._url_set):
                hits = self._url_set.find(_slice_hashes(data, s, e))
                for i in np.flatnonzero(hits >= 0):
                    texts = texts if texts is not None else _Texts(column)
                    at = self._url_set.confirm(int(hits[i]), texts[lo + i])
                    if at >= 0:
                        reason[lo + i] = URL
                        removal[lo + i] = self._url_set.names[at]
            if check_domains:
                texts = texts if texts is not None else _Texts(column)
                self._check_domains(windows, s, e, lo, texts, reason, removal)

    def _check_domains(
        self,
        windows: np.ndarray,
        s: np.ndarray,
        e: np.ndarray,
        lo: int,
        texts: _Texts,
        reason: np.ndarray,
        removal: np.ndarray,
    ) -> None:
        window = _LOWER[windows[s]]  # (rows, _WINDOW), lower-cased
        length = np.minimum(e - s, _WINDOW)
        beyond = np.arange(_WINDOW)[None, :] >= length[:, None]
        window[beyond] = 0
        https = (window[:, :8] == np.frombuffer(b"https://", np.uint8)).all(axis=1)
        http = (window[:, :7] == np.frombuffer(b"http://", np.uint8)).all(axis=1)
        start = np.where(https, 8, 7)
        kind = _CLASS[window]
        kind[np.arange(_WINDOW)[None, :] < start[:, None]] = 1
        stop = np.argmax(kind != 1, axis=1)
        ended = (kind != 1).any(axis=1)
        plain = (https | http) & ended & (kind[np.arange(len(s)), stop] == 2)
        closing_dot = window[np.arange(len(s)), np.maximum(stop - 1, 0)] == ord(".")
        stop = np.where(closing_dot & (stop > start), stop - 1, stop)
        plain &= stop > start
        up, down = _powers.get(_WINDOW + 1)
        prefix = np.zeros((len(s), _WINDOW + 1), dtype=np.uint64)
        with np.errstate(over="ignore"):
            np.cumsum(window * up[None, :_WINDOW], axis=1, out=prefix[:, 1:])
        rows = np.flatnonzero(plain)
        a, b = start[rows], stop[rows]
        with np.errstate(over="ignore"):
            host_hash = (prefix[rows, b] - prefix[rows, a]) * down[a] + (b - a).astype(np.uint64) * np.uint64(
                _L
            )
        candidates: dict[int, str] = {}  # row in slice -> its host, for the rows to look at in Python
        for matcher in (self._hosts, self._wild, self._path_hosts):
            if len(matcher):
                for i in rows[matcher.find(host_hash) >= 0]:
                    candidates[int(i)] = ""
        if len(self._wild):
            # Parent domains: the host after each of its dots.
            dot_rows, dot_cols = np.nonzero((window == ord(".")) & plain[:, None])
            inside = (dot_cols >= start[dot_rows]) & (dot_cols < stop[dot_rows])
            dot_rows, dot_cols = dot_rows[inside], dot_cols[inside] + 1
            b = stop[dot_rows]
            with np.errstate(over="ignore"):
                parent = (prefix[dot_rows, b] - prefix[dot_rows, dot_cols]) * down[dot_cols] + (
                    b - dot_cols
                ).astype(np.uint64) * np.uint64(_L)
            for i in dot_rows[self._wild.find(parent) >= 0]:
                candidates[int(i)] = ""
        for i in np.flatnonzero(~plain):
            candidates[int(i)] = ""  # the general path: IDNA, user info, escapes, long hosts
        for i in candidates:
            row = lo + i
            if reason[row] != KEEP:
                continue
            url = texts[row]
            if url is None:
                continue
            scope = self._scope_of(url)
            if scope is not None:
                reason[row] = DOMAIN
                removal[row] = str(scope)

    def _scope_of(self, url: str) -> Scope | None:
        host = url_host(url)
        if not host:
            return None
        if host in self._exact:
            return self._exact[host]
        labels = host.split(".")
        for k in range(len(labels)):
            scope = self._wild_of.get(".".join(labels[k:]))
            if scope is not None:
                return scope
        if host in self._paths:
            try:
                path = urlsplit(url.strip()).path or "/"
            except ValueError:
                return None
            for scope in self._paths[host]:
                if path.startswith(scope.path):
                    return scope
        return None

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
        if pdq_column is not None and self._has_pdq.any():
            row_pdq, row_has = column_pdqs(pdq_column)
            both = row_has[rows[q]] & self._has_pdq[c]
            if both.any():
                far = np.zeros(len(q), dtype=bool)
                diff = row_pdq[rows[q[both]]] ^ self._pdq_matrix[c[both]]
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


class _Texts:
    """The Python strings of a column, fetched one at a time (only rows being confirmed)."""

    def __init__(self, column: Any) -> None:
        self.column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column

    def __getitem__(self, i: int) -> Any:
        return self.column[int(i)].as_py()


_HEX = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _HEX[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    _HEX[_c] = 10 + _i


def _hex_words(column: Any, words: int) -> tuple[np.ndarray, np.ndarray]:
    """A column of hex strings of 16 x `words` digits -> (uint64 words (rows, words), readable)."""
    width = 16 * words
    data, starts, ends = _text_buffers(column)
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
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_integer(array.type):
        known = np.asarray(array.is_valid())
        values = np.asarray(array.fill_null(0).cast(pa.int64())).view(np.uint64)
        return values, known
    values, ok = _hex_words(array, 1)
    return values[:, 0], ok


def column_pdqs(column: Any) -> tuple[np.ndarray, np.ndarray]:
    """A PDQ column (64 hex digits) -> (uint64 words (rows, 4), readable)."""
    return _hex_words(column, 4)


def _hex_code(text: Any) -> int | None:
    if not isinstance(text, str) or len(text) != 16:
        return None
    try:
        return int(text, 16)
    except ValueError:
        return None


def _hex_pdq(text: Any) -> bytes | None:
    if not isinstance(text, str) or len(text) != 64:
        return None
    try:
        return bytes.fromhex(text)
    except ValueError:
        return None


def _says_something(code: int) -> bool:
    ones = code.bit_count()
    return MIN_MINORITY_BITS <= ones <= 64 - MIN_MINORITY_BITS


__all__ = ["REASONS", "Removed", "Scope", "Verdict", "column_codes", "pc", "text_hash"]
