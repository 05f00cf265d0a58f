"""Domain opt-outs over a column of URLs: which rows' host is under a scope, and which scope.

`DomainScopes.scope_of(url)` is the rule, in Python, one URL at a time: the URL's host read as
the registry reads it (urlsplit, no user info or port, lower-case, IDNA, no closing dot), then
an exact scope of that host, else the wildcard scope of the longest suffix of it (the host
itself or a parent domain), else a scope with a path prefix for that host.

`DomainScopes.match(column)` gives the same answer for a whole column without a Python string
a row. Most URLs are plain: `http://` or `https://`, then a host of lower-case letters, digits,
".", "-" and "_", then "/", "?", "#" or the end. For those the host is exactly what the rule
reads, so it is decided in numpy and Arrow:

1. the host's bytes are found in a window after the scheme (32 bytes, then 256 for the few
   longer ones);
2. a 64-bit key of the host (its length, first and last eight bytes) and keys of its last one
   to eight bytes are looked up in bit tables of the scopes' keys: a necessary condition, so
   a row that fails it is under no scope, and nearly every row fails it;
3. the few that pass are compared as strings in Arrow (the host, and each suffix after a dot
   for the wildcards), with the rule's order of preference.

URLs that are not plain are tried again lower-cased (upper-case hosts are then plain), and the
rest (ports, user info, escapes, IDNA, IP literals, other schemes, hosts past 256 bytes) go
through the rule itself, as do rows whose host has a path scope.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .texts import KEEP_BYTES, padded, string_array, text_buffers, words_of

_SCOPE_HOST = re.compile(r"^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$")
_HTTPS = np.uint64(int.from_bytes(b"https://", "little"))
_HTTP = np.uint64(int.from_bytes(b"http://", "little"))
_WINDOWS = (32, 256)  # bytes of host read; a host is at most 253 bytes and a closing dot
_SLICE_ROWS = 65_536
_FRONT = 16  # zero bytes before a slice's own, for the keys of hosts shorter than 16
_TAIL_SIZES = (1, 2, 3, 4, 6, 8, 12, 16)
_K1, _K2, _K3 = (np.uint64(c) for c in (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9))


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


def _mix(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        x = (a * _K1) ^ (b * _K2) ^ (c * _K3)
        return (x ^ (x >> np.uint64(29))) * _K1


def _word(data: bytes) -> int:
    return int.from_bytes(data[:8], "little")


class _KeyTable:
    """A bit table of 64-bit keys: False means the key is certainly not one of them."""

    def __init__(self, keys: np.ndarray) -> None:
        self.bits = int(np.clip(np.ceil(np.log2(max(len(keys), 1))) + 8, 12, 24))
        self.shift = np.uint64(64 - self.bits)
        self.table = np.zeros(1 << self.bits, dtype=bool)
        self.table[(keys >> self.shift).astype(np.int64)] = True

    def has(self, keys: np.ndarray) -> np.ndarray:
        return self.table[(keys >> self.shift).astype(np.int64)]


def _host_keys(first: np.ndarray, last: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The key of a host from its first eight bytes (zero past its end) and its last eight (the
    first eight again when shorter): equal hosts have equal keys."""
    return _mix(first, np.where(lengths >= 8, last, first), lengths.astype(np.uint64))


def _tail_keys(last: np.ndarray, before: np.ndarray, size: int) -> np.ndarray:
    """The key of a string's last `size` bytes (1-16) from its last eight and the eight before."""
    if size <= 8:
        tail, head = last >> np.uint64(8 * (8 - size)), np.zeros_like(last)
    else:
        tail, head = last, before >> np.uint64(8 * (16 - size))
    return _mix(tail, head, np.full(len(last), 100 + size, dtype=np.uint64))


def _tail_size(length: int) -> int:
    """How many of a wildcard host's last bytes its key covers: a few sizes, so that a row is
    keyed a few times whatever the scopes' lengths."""
    return max(size for size in _TAIL_SIZES if size <= length)


class DomainScopes:
    """Domain scopes indexed for whole columns of URLs (built in the process that uses them)."""

    def __init__(self, scopes: list[Scope]) -> None:
        exact = [s for s in scopes if not s.subdomains and not s.path]
        wild = [s for s in scopes if s.subdomains and not s.path]
        self.exact = {s.host: s for s in exact}
        self.wild = {s.host: s for s in wild}
        self.paths: dict[str, list[Scope]] = {}
        for scope in scopes:
            if scope.path:
                self.paths.setdefault(scope.host, []).append(scope)
        self.names = sorted({str(s) for s in scopes})
        self._number = {name: i for i, name in enumerate(self.names)}
        # Hosts compared whole: an exact scope's number, or -2 when only path scopes have that host.
        whole = sorted(set(self.exact) | set(self.paths))
        self._whole = pa.array(whole, type=pa.string())
        self._whole_scope = np.array(
            [self._number[str(self.exact[h])] if h in self.exact else -2 for h in whole], dtype=np.int64
        )
        self._whole_keys = _KeyTable(self._keys_of(whole))
        wild_hosts = sorted(self.wild)
        self._wild = pa.array(wild_hosts, type=pa.string())
        self._wild_scope = np.array([self._number[str(self.wild[h])] for h in wild_hosts], dtype=np.int64)
        self._wild_length = np.zeros(257, dtype=bool)
        self._wild_length[[len(h) for h in wild_hosts]] = True
        self._tail_sizes = sorted({_tail_size(len(h)) for h in wild_hosts})
        tails = []
        for host in wild_hosts:
            size = _tail_size(len(host))
            data = host.encode()[-size:].rjust(16, b"\0")
            last, before = (np.array([_word(data[k : k + 8])], dtype=np.uint64) for k in (8, 0))
            tails.append(_tail_keys(last, before, size))
        self._wild_keys = _KeyTable(np.concatenate(tails) if tails else np.empty(0, np.uint64))

    @staticmethod
    def _keys_of(hosts: list[str]) -> np.ndarray:
        data = [h.encode() for h in hosts]
        first = np.array([_word(d.ljust(8, b"\0")) for d in data], dtype=np.uint64)
        last = np.array([_word(d[-8:].ljust(8, b"\0")) for d in data], dtype=np.uint64)
        return _host_keys(first, last, np.array([len(d) for d in data], dtype=np.int64))

    def __bool__(self) -> bool:
        return bool(self.exact or self.wild or self.paths)

    # --- the rule, one URL at a time ---------------------------------------------------------

    def scope_of(self, url: str) -> Scope | None:
        host = url_host(url)
        if not host:
            return None
        if host in self.exact:
            return self.exact[host]
        labels = host.split(".")
        for k in range(len(labels)):
            scope = self.wild.get(".".join(labels[k:]))
            if scope is not None:
                return scope
        if host in self.paths:
            try:
                path = urlsplit(url.strip()).path or "/"
            except ValueError:
                return None
            for scope in self.paths[host]:
                if path.startswith(scope.path):
                    return scope
        return None

    # --- the same over a column ------------------------------------------------------------

    def match(self, column: Any) -> tuple[np.ndarray, np.ndarray]:
        """The rows of a column of URLs under a scope (ascending) and the number of each one's
        scope in `names`."""
        array = string_array(column)
        scope = np.full(len(array), -1, dtype=np.int64)
        for lo in range(0, len(array), _SLICE_ROWS):
            part = array.slice(lo, _SLICE_ROWS)
            unsure = self._match_plain(part, np.arange(lo, lo + len(part)), _WINDOWS[0], scope)
            if len(unsure):
                lowered = pc.ascii_lower(part.take(pa.array(unsure - lo)))
                unsure = self._match_plain(lowered, unsure, _WINDOWS[1], scope)
            for row in unsure.tolist():
                url = array[row].as_py()
                rule = self.scope_of(url) if url is not None else None
                scope[row] = self._number[str(rule)] if rule is not None else -1
        rows = np.flatnonzero(scope >= 0)
        return rows, scope[rows]

    def _match_plain(self, urls: Any, rows: np.ndarray, width: int, scope: np.ndarray) -> np.ndarray:
        """Decide the plain URLs of `urls` (whose row numbers are `rows`) into `scope`; the rows
        left undecided."""
        data, starts, ends = text_buffers(urls)
        if not len(starts):
            return rows
        # A slice of a column shares the column's bytes: copy only its own, padded before (for
        # the keys of short hosts) and after (for the windows).
        first_byte = int(starts[0]) - _FRONT
        starts, ends = starts - first_byte, ends - first_byte
        if int(ends.max()) >= 2**31 - width - 16:  # string views address bytes with 32-bit offsets
            return rows
        data = np.concatenate(
            [np.zeros(_FRONT, np.uint8), data[first_byte + _FRONT : first_byte + int(ends.max())]]
        )
        data = padded(data, width + 16)
        words = words_of(data)
        lengths = ends - starts
        head = words[starts]
        https = (head == _HTTPS) & (lengths >= 8)
        web = https | (((head & KEEP_BYTES[7]) == _HTTP) & (lengths >= 7))
        at = np.flatnonzero(web)
        host_start = starts[at] + np.where(https[at], 8, 7)
        window = np.lib.stride_tricks.sliding_window_view(data, width)[host_start]
        left = ends[at] - host_start
        w = window
        stops = (w - 97 >= 26) & (w - 48 >= 10) & (w - 45 >= 2) & (w != 95)  # uint8 wraps below
        stops |= np.arange(width)[None, :] >= left[:, None]
        stop = np.argmax(stops, axis=1)
        line = np.arange(len(at))
        stopped = stops[line, stop]
        byte = window[line, stop]
        ended = (stop >= left) | (byte == 47) | (byte == 63) | (byte == 35)
        plain = stopped & ended
        closing_dot = (stop > 0) & (window[line, np.maximum(stop - 1, 0)] == 46)
        size = stop - closing_dot
        # An empty host or one past 253 bytes is no host: decided, under no scope.
        hosts = plain & (size > 0) & (size <= 253)
        undecided = np.ones(len(rows), dtype=bool)
        undecided[at[plain]] = False
        h = np.flatnonzero(hosts)
        if len(h):
            by_path = self._decide(data, words, window[h], host_start[h], size[h], rows[at[h]], scope)
            undecided[at[h[by_path]]] = True
        return rows[undecided]

    def _decide(
        self,
        data: np.ndarray,
        words: np.ndarray,
        window: np.ndarray,
        start: np.ndarray,
        size: np.ndarray,
        rows: np.ndarray,
        scope: np.ndarray,
    ) -> np.ndarray:
        """Plain hosts [start, start + size) of `data`: which scope covers each, by the rule, into
        `scope`; the positions of those that only the URL's path can decide."""
        first = words[start] & KEEP_BYTES[np.minimum(size, 8)]
        last, before = words[start + size - 8], words[start + size - 16]
        exact = np.full(len(rows), -1, dtype=np.int64)
        whole = np.flatnonzero(self._whole_keys.has(_host_keys(first, last, size)))
        if len(whole):
            hosts = _views(data, words, start[whole], size[whole])
            at = np.asarray(pc.index_in(hosts, value_set=self._whole).fill_null(-1))
            hit = at >= 0
            exact[whole[hit]] = self._whole_scope[at[hit]]
        wild = np.full(len(rows), -1, dtype=np.int64)
        maybe_wild = np.zeros(len(rows), dtype=bool)
        for tail in self._tail_sizes:
            maybe_wild |= self._wild_keys.has(_tail_keys(last, before, tail))
        w = np.flatnonzero(maybe_wild & (exact < 0))
        if len(w):
            # The host itself and every suffix after one of its dots, longest first, of the
            # lengths some wildcard host has.
            dots = (window[w] == 46) & (np.arange(window.shape[1]) < size[w, None])
            dot_line, dot_column = np.nonzero(dots)
            line = np.concatenate([np.arange(len(w)), dot_line])
            offset = np.concatenate([np.zeros(len(w), dtype=np.int64), dot_column + 1])
            order = np.lexsort((offset, line))
            line, offset = line[order], offset[order]
            keep = self._wild_length[size[w][line] - offset]
            line, offset = line[keep], offset[keep]
            suffixes = _views(data, words, start[w][line] + offset, size[w][line] - offset)
            at = np.asarray(pc.index_in(suffixes, value_set=self._wild).fill_null(-1))
            hit = at >= 0
            lines, longest = np.unique(line[hit], return_index=True)
            wild[w[lines]] = self._wild_scope[at[hit][longest]]
        decided = np.where(exact >= 0, exact, wild)
        chosen = decided >= 0
        scope[rows[chosen]] = decided[chosen]
        # A path scope's host and no other scope: the URL's path decides, by the rule.
        return np.flatnonzero((exact == -2) & (wild < 0))


def _views(data: np.ndarray, words: np.ndarray, start: np.ndarray, size: np.ndarray) -> Any:
    """The byte ranges [start, start + size) of `data` as an Arrow string array, through Arrow's
    string views (16 bytes each: the length, then the bytes themselves up to 12, else their
    first four and where they are) and one cast that copies just those bytes."""
    length = size.astype(np.uint64)
    head, rest = words[start], words[start + 8]
    inline = size <= 12
    views = np.empty((len(start), 2), dtype=np.uint64)
    thirty_two = np.uint64(32)
    views[:, 0] = length | ((head & KEEP_BYTES[np.minimum(size, 4)]) << thirty_two)
    views[:, 1] = np.where(
        inline,
        ((head >> thirty_two) & KEEP_BYTES[np.clip(size - 4, 0, 4)])
        | ((rest & KEEP_BYTES[np.clip(size - 8, 0, 4)]) << thirty_two),
        start.astype(np.uint64) << thirty_two,  # buffer 0, at `start`
    )
    array = pa.Array.from_buffers(
        pa.string_view(), len(start), [None, pa.py_buffer(views), pa.py_buffer(data)]
    )
    return array.cast(pa.string())
