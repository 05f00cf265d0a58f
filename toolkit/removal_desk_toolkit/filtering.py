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
numpy straight from Arrow's buffers (a polynomial over its bytes read eight at a time, so a
URL's host and each parent domain are hashed from the same buffer by their byte ranges), looked
up in the removals' sorted hashes, and every hit is confirmed by comparing the strings
themselves: a hash collision costs a comparison, never a wrong drop. Hosts that are not plain
lower-case ASCII (IDNA, upper case, user info, escapes, IP literals) take the general path, in
Python. pHashes go through removal_desk_toolkit.hamming's
exact multi-index over the removals.

Needs pyarrow (`pip install removal-desk-toolkit[filter]`); pandas only for filter_frame.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import numpy as np

from .hamming import MultiIndex, layout

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

# Masks keeping the first k bytes (0-8) of a little-endian 64-bit word.
_KEEP_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)


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
    """The 64-bit hash of one string, equal to what the vectorised paths compute: its bytes read
    as little-endian 64-bit words w0, w1, ... (the last one zero-padded), sum of wk * M^k, plus
    the length times L, modulo 2^64."""
    data = value.encode("utf-8") if isinstance(value, str) else value
    h, m = 0, 1
    for k in range(0, len(data), 8):
        h = (h + int.from_bytes(data[k : k + 8], "little") * m) & _MASK
        m = (m * _M) & _MASK
    return (h + len(data) * _L) & _MASK


def _words(data: np.ndarray) -> np.ndarray:
    """Every unaligned little-endian 64-bit word of `data` (one starting at each byte), a view
    over a copy padded with 8 zero bytes."""
    padded = np.concatenate([data, np.zeros(8, dtype=np.uint8)])
    return np.ndarray(shape=(len(padded) - 7,), dtype="<u8", buffer=padded, strides=(1,))


def _hash_ranges(words: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """text_hash of the bytes [start, end) of each range, eight bytes a step, in numpy."""
    if not len(starts):
        return np.empty(0, dtype=np.uint64)
    lengths = ends - starts
    steps = np.maximum((lengths + 7) >> 3, 1)
    first = np.cumsum(steps) - steps
    k = np.arange(int(first[-1] + steps[-1]), dtype=np.int64) - np.repeat(first, steps)
    left = np.repeat(lengths, steps) - 8 * k
    up = _powers.get(int(steps.max()))
    with np.errstate(over="ignore"):
        contributions = (words[np.repeat(starts, steps) + 8 * k] & _KEEP_BYTES[np.clip(left, 0, 8)]) * up[k]
        return np.add.reduceat(contributions, first) + lengths.astype(np.uint64) * np.uint64(_L)


def _one_array(array: Any) -> Any:
    """A column as one Arrow array: a chunked column of one chunk without copying it."""
    if isinstance(array, pa.ChunkedArray):
        return array.chunk(0) if array.num_chunks == 1 else array.combine_chunks()
    return array


def _text_buffers(array: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bytes, start, end) of every value of a string column (nulls: start == end), no copies."""
    array = _one_array(array)
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
        # Sorted queries walk the table in order: several times faster than random probes.
        order = np.argsort(hashes)
        at = np.empty(len(hashes), dtype=np.int64)
        at[order] = np.searchsorted(self.hashes, hashes[order])
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
    words = _words(data)
    out = np.empty(len(starts), dtype=np.uint64)
    for lo in range(0, len(starts), _SLICE_ROWS):
        s, e = starts[lo : lo + _SLICE_ROWS], ends[lo : lo + _SLICE_ROWS]
        out[lo : lo + len(s)] = _hash_ranges(words, s, e)
    return out


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
        for name in (
            "_url_set",
            "_hosts",
            "_wild",
            "_exact",
            "_wild_of",
            "_paths",
            "_path_hosts",
            "_index",
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
        verdict = self.check(pa.Table.from_pandas(frame, preserve_index=False), **columns)
        return frame[verdict.keep]

    # --- URLs and domains ------------------------------------------------------------------

    def _check_urls(self, column: Any, reason: np.ndarray, removal: np.ndarray) -> None:
        check_domains = bool(self.scopes)
        if not len(self._url_set) and not check_domains:
            return
        data, starts, ends = _text_buffers(column)
        words = _words(data)
        padded = np.concatenate([data, np.zeros(_WINDOW, dtype=np.uint8)])
        texts = _Texts(column)  # the column's Python strings, fetched only for rows that need them
        for lo in range(0, len(starts), _SLICE_ROWS):
            s, e = starts[lo : lo + _SLICE_ROWS], ends[lo : lo + _SLICE_ROWS]
            if len(self._url_set):
                hits = self._url_set.find(_hash_ranges(words, s, e))
                for i in np.flatnonzero(hits >= 0):
                    at = self._url_set.confirm(int(hits[i]), texts[lo + int(i)])
                    if at >= 0:
                        reason[lo + i] = URL
                        removal[lo + i] = self._url_set.names[at]
            if check_domains:
                self._check_domains(words, padded, s, e, lo, texts, reason, removal)

    def _check_domains(
        self,
        words: np.ndarray,
        padded: np.ndarray,
        s: np.ndarray,
        e: np.ndarray,
        lo: int,
        texts: _Texts,
        reason: np.ndarray,
        removal: np.ndarray,
    ) -> None:
        """Domain scopes over one slice of rows: the plain case (http(s), a lower-case ASCII host)
        in numpy, every other URL and every hash hit in Python. Hosts are read in a window of 32
        bytes, then 64 for the few longer ones."""
        candidates: set[int] = set()
        todo = np.arange(len(s))
        for width in (32, _WINDOW):
            windows = np.lib.stride_tricks.sliding_window_view(padded, width)
            plain, start, stop, longer = _plain_hosts(windows[s[todo]], e[todo] - s[todo])
            if width == _WINDOW:
                plain &= ~longer
            else:
                todo_next = todo[longer]
            candidates.update(todo[~plain & ~longer].tolist() if width != _WINDOW else todo[~plain].tolist())
            rows = todo[plain]
            a, b = s[rows] + start[plain], s[rows] + stop[plain]
            host_hashes = _hash_ranges(words, a, b)
            for matcher in (self._hosts, self._wild, self._path_hosts):
                if len(matcher):
                    candidates.update(rows[matcher.find(host_hashes) >= 0].tolist())
            if len(self._wild) and len(rows):
                # Parent domains: the host after each of its dots.
                host_windows = windows[s[rows]]
                dot_rows, dot_cols = np.nonzero(host_windows == 46)
                inside = (dot_cols >= start[plain][dot_rows]) & (dot_cols < stop[plain][dot_rows])
                dot_rows, dot_cols = dot_rows[inside], dot_cols[inside]
                parents = _hash_ranges(words, s[rows][dot_rows] + dot_cols + 1, b[dot_rows])
                candidates.update(rows[dot_rows[self._wild.find(parents) >= 0]].tolist())
            if width != _WINDOW:
                todo = todo_next
                if not len(todo):
                    break
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


def _plain_hosts(window: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, ...]:
    """For windows of URL bytes: (plain, host start, host stop, longer). `plain`: an http(s) URL
    whose host is lower-case ASCII letters, digits, ".", "-", "_" and ends inside the window
    (a closing dot left off); `longer`: such a host still going at the window's end."""
    n, width = window.shape
    rows = np.arange(n)
    column = np.arange(width, dtype=np.uint8)[None, :]
    past_end = column >= np.minimum(lengths, 255).astype(np.uint8)[:, None]
    # Uint8 arithmetic wraps, so (x - a) < k tests a <= x < a + k in one comparison.
    host_char = ((window - 97) < 26) | ((window - 48) < 10) | ((window - 45) < 2) | (window == 95)
    stops = ~host_char | past_end
    https = (window[:, :8] == np.frombuffer(b"https://", np.uint8)).all(axis=1)
    http = (window[:, :7] == np.frombuffer(b"http://", np.uint8)).all(axis=1)
    stops[:, :7] = False
    stops[:, 7] &= ~https  # "https://" has its last "/" there
    start = np.where(https, 8, 7)
    stop = np.argmax(stops, axis=1)
    found = stops[rows, stop]
    at_stop = window[rows, stop]
    ended = past_end[rows, stop] | (at_stop == 47) | (at_stop == 63) | (at_stop == 35) | (at_stop == 58)
    web = https | http
    longer = web & ~found
    plain = web & found & ended
    stop = np.where(window[rows, np.maximum(stop - 1, 0)] == 46, stop - 1, stop)  # a closing dot
    plain &= stop > start
    return plain, start, stop, longer


class _Texts:
    """The Python strings of a column, fetched one at a time (only rows being confirmed)."""

    def __init__(self, column: Any) -> None:
        self.column = column

    def __getitem__(self, i: int) -> Any:
        return self.column[int(i)].as_py()  # a ChunkedArray finds the chunk itself


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
    array = _one_array(column)
    if pa.types.is_integer(array.type):
        known = np.asarray(array.is_valid())
        values = np.asarray(array.fill_null(0).cast(pa.int64())).view(np.uint64)
        return values, known
    values, ok = _hex_words(array, 1)
    return values[:, 0], ok


def column_pdqs(column: Any) -> tuple[np.ndarray, np.ndarray]:
    """A PDQ column (64 hex digits) -> (uint64 words (rows, 4), readable)."""
    return _hex_words(column, 4)


__all__ = ["REASONS", "Removed", "Scope", "Verdict", "column_codes", "pc", "text_hash"]
