"""Hosts and paths of URLs, in the form that makes "this domain and its subdomains" a prefix.

An item's host is stored as its *key*: labels reversed, lower-case, IDNA (punycode),
with a closing dot: `www.Example.COM.:8080` -> `com.example.www.`. Then

- the host itself is `host_key = 'com.example.'`,
- the host and all its subdomains are `host_key LIKE 'com.example.%'` (the closing dot
  is what keeps `notexample.com` and `example.com.evil.net` out),

and both are one B-tree range on PostgreSQL (text_pattern_ops). The path is the URL's
path as sent, query and fragment left off; a rule's path prefix always ends with "/"
(`/art/` covers `/art/x`, never `/artwork`).

Nothing here raises on a hostile URL: a host that cannot be read has the key "",
which no rule matches.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import unquote, urlsplit

import idna
from django.utils.translation import gettext as _

MAX_HOST_LENGTH = 253  # DNS: 253 characters written out, 63 per label
MAX_LABEL_LENGTH = 63
# A rule's path prefix: short enough to sit whole in the host index's path part.
MAX_PREFIX_LENGTH = 100
PATH_INDEX_LENGTH = 100
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$")
_WILDCARD = "*."


class ScopeError(ValueError):
    """A scope line that cannot be a rule; the message says why, for a person."""


def _ip_literal(text: str) -> str | None:
    """The canonical form of an IPv4 or bracketed IPv6 literal, or None when `text` is neither."""
    if text.startswith("[") and text.endswith("]"):
        try:
            return f"[{ipaddress.IPv6Address(text[1:-1].split('%', 1)[0]).compressed}]"
        except ValueError:
            return None
    if re.fullmatch(r"[0-9.]+", text):
        try:
            return str(ipaddress.IPv4Address(text))
        except ValueError:
            return None
    return None


def normalise_host(raw: str) -> str:
    """A host as written ("WWW.Exämple.com.", "user@host:80") -> "www.xn--exmple-cua.com", or "".

    Userinfo and port are dropped, percent-escapes decoded, one closing dot removed,
    international names turned into IDNA (UTS 46, as browsers do). Anything that is not a
    DNS name or an IP literal gives "".
    """
    if not raw or "\x00" in raw or len(raw) > 4 * MAX_HOST_LENGTH:
        return ""
    host = raw.rsplit("@", 1)[-1]
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            return ""
        return _ip_literal(host[: end + 1]) or ""
    host = host.split(":", 1)[0]
    host = unquote(host).strip().lower()
    if host.endswith("."):
        host = host[:-1]
    if not host or "\x00" in host:
        return ""
    literal = _ip_literal(host)
    if literal:
        return literal
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError):
            return ""
    if len(host) > MAX_HOST_LENGTH:
        return ""
    labels = host.split(".")
    if any(len(label) > MAX_LABEL_LENGTH or not _LABEL.match(label) for label in labels):
        return ""
    return host


def host_key(host: str) -> str:
    """The stored form of a normalised host: "www.example.com" -> "com.example.www."; "" stays ""."""
    if not host:
        return ""
    if host.startswith("["):
        return host + "."  # an IPv6 literal has no labels to reverse
    return ".".join(reversed(host.split("."))) + "."


def host_of_key(key: str) -> str:
    """The host back from its key: "com.example.www." -> "www.example.com"."""
    key = key.rstrip(".")
    if key.startswith("["):
        return key
    return ".".join(reversed(key.split(".")))


# The common case, read without urlsplit: http(s), a plain ASCII host (no user info, IP literal
# or escapes), an optional port. Anything else takes the general path below.
_PLAIN_URL = re.compile(r"^[hH][tT][tT][pP][sS]?://([A-Za-z0-9_.-]+)(?::\d{0,5})?([/?#]|$)")
_PLAIN_HOST = re.compile(
    r"^(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$"
)


def _plain_key(written: str) -> str | None:
    """The key of a host as _PLAIN_URL reads it, or None when it needs the general path."""
    host = written.lower()
    if host.endswith("."):
        host = host[:-1]
    if len(host) <= MAX_HOST_LENGTH and not host[-1:].isdigit() and _PLAIN_HOST.match(host):
        return ".".join(reversed(host.split("."))) + "."
    return None


def _plain_path(url: str, plain: re.Match[str]) -> str:
    rest = url[url.find("/", plain.end(1)) :] if plain.group(2) == "/" else "/"
    return rest.split("?", 1)[0].split("#", 1)[0]


def url_host_path(url: str) -> tuple[str, str]:
    """(host key, path) of a URL; ("", "") when its host cannot be read. Never raises."""
    if not isinstance(url, str) or "\x00" in url:
        return "", ""
    plain = _PLAIN_URL.match(url)
    if plain is not None:
        key = _plain_key(plain.group(1))
        if key is not None:
            return key, _plain_path(url, plain)
    try:
        parts = urlsplit(url.strip())
        netloc = parts.netloc
    except ValueError:  # an unbalanced "[" in the host
        return "", ""
    key = host_key(normalise_host(netloc))
    if not key:
        return "", ""
    return key, parts.path or "/"


def url_host_paths(urls: Iterable[str]) -> dict[str, tuple[str, str]]:
    """url_host_path of each of `urls`, for a batch: each plain host's key is made once (a
    look-up batch under one opt-out is 10,000 URLs on a handful of hosts)."""
    keys: dict[str, str | None] = {}
    found: dict[str, tuple[str, str]] = {}
    for url in urls:
        plain = _PLAIN_URL.match(url) if isinstance(url, str) and "\x00" not in url else None
        if plain is not None:
            written = plain.group(1)
            if written in keys:
                key = keys[written]
            else:
                key = keys[written] = _plain_key(written)
            if key is not None:
                found[url] = key, _plain_path(url, plain)
                continue
        found[url] = url_host_path(url)
    return found


# _PLAIN_URL after every "\n" of a batch's text ("\n" before each URL), as one findall: a line
# that is not plain gives "", so the list has one entry per line. Starting with the literal
# "\n" (not "^") lets the regex engine skip to each line instead of trying every character.
_PLAIN_LINES = re.compile(
    r"\n(?:[hH][tT][tT][pP][sS]?://([A-Za-z0-9_.-]+)(?::\d{0,5})?(?=[/?#]|$))?", re.MULTILINE
)


def url_host_keys(urls: Sequence[str]) -> list[str]:
    """url_host_path(url)[0] of each of `urls` (the path left unread), for a batch: the plain
    hosts read from the batch's text in one pass, each distinct one's key made once; the others
    (and any batch whose text cannot be split back into its URLs) go through url_host_path."""
    text = "\n".join(urls) if set(map(type, urls)) <= {str} else None
    if text is None or "\x00" in text or text.count("\n") != len(urls) - 1:
        return [url_host_path(u)[0] for u in urls]
    written = _PLAIN_LINES.findall("\n" + text) if urls else []
    if len(written) != len(urls):  # not expected; the general path is always right
        return [url_host_path(u)[0] for u in urls]
    distinct = set(written)
    keys = {w: key for w in distinct if w and (key := _plain_key(w)) is not None}
    if len(keys) == len(distinct):  # every line's host is plain: mapped in C
        return list(map(keys.__getitem__, written))
    return [
        key if (key := keys.get(w)) is not None else url_host_path(url)[0]
        for url, w in zip(urls, written, strict=True)
    ]


def key_suffixes(key: str) -> list[str]:
    """Every key a rule covering `key` may have: "com.example.www." -> com., com.example., com.example.www."""
    if not key:
        return []
    if key.startswith("["):
        return [key]
    labels = key.rstrip(".").split(".")
    return [".".join(labels[: n + 1]) + "." for n in range(len(labels))]


@dataclass(frozen=True)
class Scope:
    """What a rule covers: a host (normalised), with or without its subdomains, under a path prefix."""

    host: str
    include_subdomains: bool = False
    path_prefix: str = ""

    @cached_property  # covers() reads it once per URL of a look-up batch
    def key(self) -> str:
        return host_key(self.host)

    def covers(self, key: str, path: str) -> bool:
        """Whether a URL with host key `key` and `path` is under this scope."""
        mine = self.key
        if not key or not (key == mine or (self.include_subdomains and key.startswith(mine))):
            return False
        return not self.path_prefix or path.startswith(self.path_prefix)

    def __str__(self) -> str:
        return f"{_WILDCARD if self.include_subdomains else ''}{self.host}{self.path_prefix}"


def clean_path_prefix(raw: str) -> str:
    """A path prefix as a rule keeps it: "" (the whole host) or "/…/", at most 100 characters."""
    if not raw or raw == "/":
        return ""
    if "\x00" in raw or any(c.isspace() for c in raw):
        raise ScopeError(_("A path prefix cannot hold spaces or control characters."))
    path = raw if raw.startswith("/") else "/" + raw
    path = path.split("?", 1)[0].split("#", 1)[0]
    if not path.endswith("/"):
        path += "/"
    if len(path) > MAX_PREFIX_LENGTH:
        limit = {"limit": MAX_PREFIX_LENGTH}
        raise ScopeError(_("A path prefix can be at most %(limit)d characters long.") % limit)
    return path


def parse_scope(line: str) -> Scope:
    """One scope line: `example.com`, `*.example.com` (with subdomains), `example.com/portfolio/`.

    A scheme (`https://`) is allowed and ignored. Raises ScopeError saying what is wrong.
    """
    text = line.strip()
    if not text:
        raise ScopeError(_("The line is empty."))
    if "\x00" in text or len(text) > 2000:
        raise ScopeError(_("The line is not a domain or an address."))
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text, flags=re.IGNORECASE)
    include = text.startswith(_WILDCARD)
    if include:
        text = text[len(_WILDCARD) :]
    host_part, slash, rest = text.partition("/")
    if "*" in host_part:
        raise ScopeError(_("Write a wildcard only at the start: *.example.com covers every subdomain."))
    host = normalise_host(host_part)
    if not host:
        raise ScopeError(_("%(host)s is not a domain name.") % {"host": host_part[:100]})
    if host.startswith("[") or _ip_literal(host):
        raise ScopeError(_("Give a domain name, not an IP address."))
    if "." not in host:
        raise ScopeError(_("%(host)s is not a full domain name (such as example.com).") % {"host": host})
    return Scope(host=host, include_subdomains=include, path_prefix=clean_path_prefix(slash + rest))
